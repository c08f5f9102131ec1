"""Using the app never imports TensorFlow, Keras or the mtcnn package (docs/architecture.md), nor
OpenCV: decoding, detecting, aligning, scanning, naming and the window's thumbnails run on Pillow
and NumPy (OpenCV stays a training/test dependency; the desktop bundle leaves it out)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from PIL import Image

BANNED = ("tensorflow", "keras", "mtcnn", "tf_keras", "cv2")


def test_detecting_scanning_naming_and_thumbnails_import_no_tensorflow_and_no_opencv(tmp_path, astronaut):
    photo = tmp_path / "face.jpg"
    Image.fromarray(astronaut).save(photo, quality=92)
    png = tmp_path / "face.png"
    Image.fromarray(astronaut).convert("RGBA").save(png)
    code = textwrap.dedent(
        f"""
        import os, sys
        from photoface.cli import main
        from photoface.align import align_face
        from photoface.decode import decode_file
        from photoface.detection import FaceDetector
        assert main(["detect", "--json", {str(photo)!r}]) == 0
        d = FaceDetector()
        img = d.decode({str(photo)!r})
        crop = align_face(img.pixels, d.detect(img)[0].landmarks)
        assert decode_file({str(png)!r}, max_side=300).pixels.shape == (300, 300, 3)
        from photoface.library import Library
        lib = Library.open({str(tmp_path / "lib.sqlite3")!r})
        lib.scan([{str(photo)!r}], workers=1)
        lib.people.name(lib.list_people()[0].ref, "Eileen")
        assert lib.find_person("Eileen")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        import photoface.gui.main_window
        from photoface.gui.thumbnails import face_crop, photo_preview
        face = lib.list_faces()[0]
        assert face_crop(face["path"], face["box"], 96).width() == 96
        assert photo_preview(face["path"], 200).width() == 200
        banned = sorted(m for m in sys.modules if m.split(".")[0] in {BANNED!r})
        print("BANNED", banned)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "BANNED []" in proc.stdout
