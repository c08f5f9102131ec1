"""PhotoFace: find, group and recognise the people in a photo collection.

The core (everything here but ``photoface.gui``) needs no GUI and no TensorFlow: models run on
LiteRT. Data flows one way: files -> decode -> detect -> align -> embed -> store -> views.
"""

__version__ = "0.1.0"
