"""Eye-aligned face crops from a video: the frames sampled at a rate, MediaPipe FaceMesh's
landmarks (features/face_mesh.py), and the similarity transform (rotation, scale, shift) that
puts the centre of the subject's right eye (landmarks 33, 133) at (0.35, 0.40) and of the left
eye (263, 362) at (0.65, 0.40) of a square crop, so head roll, face size and position are
removed. Shared by features/face_deep.py (224 px crops through an ImageNet CNN) and
features/face_crops.py (small crops kept as a raw input)."""
import cv2
import numpy as np

from features.face_mesh import face_mesh
from features.video import open_video, rgb_frames

RIGHT_EYE, LEFT_EYE = (33, 133), (263, 362)  # subject's right eye is on the image's left
EYE_POSITIONS = np.array([[0.35, 0.40], [0.65, 0.40]])  # where the eye centres go, as fractions of the crop


def eye_centres(landmarks, width: int, height: int) -> np.ndarray:
    """(2, 2) pixel centres (x right, y down) of the subject's right and left eye."""
    points = lambda ids: np.mean([(landmarks.landmark[i].x * width, landmarks.landmark[i].y * height)
                                  for i in ids], axis=0)
    return np.stack([points(RIGHT_EYE), points(LEFT_EYE)])


def alignment_matrix(eyes: np.ndarray, size: int) -> np.ndarray:
    """2 x 3 similarity transform taking the two eye centres to EYE_POSITIONS of a `size` crop."""
    targets = EYE_POSITIONS * size
    source, target = eyes[:, 0] + 1j * eyes[:, 1], targets[:, 0] + 1j * targets[:, 1]
    rotation_scale = (target[1] - target[0]) / (source[1] - source[0])
    shift = target[0] - rotation_scale * source[0]
    a, b = rotation_scale.real, rotation_scale.imag
    return np.array([[a, -b, shift.real], [b, a, shift.imag]])


def aligned_crop(rgb: np.ndarray, eyes: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpAffine(rgb, alignment_matrix(eyes, size), (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def sampled_face_crops(path, sample_fps: float, min_detection_confidence: float, size: int):
    """Yields (time, `size` x `size` RGB crop or None without a face) for the frames sampled at
    `sample_fps` (every round(fps / sample_fps)-th frame; frame i is at i / fps)."""
    capture, fps = open_video(path)
    step = max(1, int(round(fps / float(sample_fps))))
    try:
        with face_mesh(min_detection_confidence) as mesh:
            for index, rgb in enumerate(rgb_frames(capture)):
                if index % step:
                    continue
                result = mesh.process(rgb)
                if not result.multi_face_landmarks:
                    yield index / fps, None
                    continue
                eyes = eye_centres(result.multi_face_landmarks[0], rgb.shape[1], rgb.shape[0])
                yield index / fps, aligned_crop(rgb, eyes, size) if np.linalg.norm(eyes[1] - eyes[0]) > 1 else None
    finally:
        capture.release()
