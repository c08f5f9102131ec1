"""Face detection: MTCNN over LiteRT, with settings and results in original photo pixels."""

from .detector import LANDMARK_NAMES, Detection, DetectorSettings, Face, FaceDetector, central_face

__all__ = ["LANDMARK_NAMES", "Detection", "DetectorSettings", "Face", "FaceDetector", "central_face"]
