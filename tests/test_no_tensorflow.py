"""Using the app never imports TensorFlow, Keras or the mtcnn package (DEVELOPERS.md)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_detecting_scanning_and_naming_do_not_import_tensorflow(tmp_path, astronaut):
    import cv2

    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    code = textwrap.dedent(
        f"""
        import sys
        from photoface.cli import main
        from photoface.align import align_face
        from photoface.detection import FaceDetector
        assert main(["detect", "--json", {str(photo)!r}]) == 0
        d = FaceDetector()
        img = d.decode({str(photo)!r})
        crop = align_face(img.pixels, d.detect(img)[0].landmarks)
        from photoface.library import Library
        lib = Library.open({str(tmp_path / "lib.sqlite3")!r})
        lib.scan([{str(photo)!r}], workers=1)
        lib.people.name(lib.list_people()[0].ref, "Eileen")
        assert lib.find_person("Eileen")
        banned = sorted(m for m in sys.modules
                        if m.split(".")[0] in ("tensorflow", "keras", "mtcnn", "tf_keras"))
        print("BANNED", banned)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "BANNED []" in proc.stdout
