"""MediaPipe FaceMesh as the face stages run it: one face, 478 landmarks (iris points refined),
tracking mode (features/face.py's landmark features, features/face_deep.py's aligned crops).

MediaPipe's graph state does not survive fork(): a forked child of a process that has run
FaceMesh corrupts its heap ("malloc(): unaligned tcache chunk") when it runs one. `face_mesh`
records the pid that first ran FaceMesh, so such a child fails with a clear RuntimeError
instead. Only importing MediaPipe before forking is safe, which is what pipeline/features.py's
parent process does.
"""
import os

import mediapipe as mp

_MESH_PID: int | None = None


def face_mesh(min_detection_confidence: float):
    """A new FaceMesh (a context manager); RuntimeError in a fork of a process that ran one."""
    global _MESH_PID
    if _MESH_PID is not None and _MESH_PID != os.getpid():
        raise RuntimeError(f"MediaPipe FaceMesh was run in process {_MESH_PID} before this process "
                           "was forked from it; run face extraction in spawned workers "
                           "(multiprocessing 'spawn' context) or only in forked children")
    _MESH_PID = os.getpid()
    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False, max_num_faces=1, refine_landmarks=True,
        min_detection_confidence=float(min_detection_confidence))
