import numpy as np
import pytest

from photoface.imaging import Padded, sample_bilinear


def framed(padded: Padded) -> np.ndarray:
    """The frame's pixels as (h + 4, w + 4, channels) uint8."""
    return padded.flat.view(np.uint8).reshape(-1, padded.stride, 4)[..., : padded.channels]


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2), (13, 29)])
def test_an_rgb_image_is_framed_pixel_for_pixel(shape):
    rng = np.random.default_rng(sum(shape))
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    got = framed(Padded(image, 77))
    assert np.array_equal(got[2:-2, 2:-2], image)
    border = np.ones(got.shape[:2], bool)
    border[2:-2, 2:-2] = False
    assert (got[border] == 77).all()


def test_a_region_of_a_larger_image_is_framed_as_its_own_pixels():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    region = photo[5:31, 7:44]  # rows and columns both strided
    assert np.array_equal(framed(Padded(region, 0))[2:-2, 2:-2], region)


def test_grey_and_rgba_images_are_framed_too():
    rng = np.random.default_rng(2)
    for image in (rng.integers(0, 256, (9, 11), dtype=np.uint8), rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)):
        got = framed(Padded(image, 5))[2:-2, 2:-2]
        assert np.array_equal(got.reshape(image.shape), image)


def test_bilinear_samples_on_pixel_centres_return_the_pixels_and_blend_into_the_border():
    image = np.full((4, 4, 3), 200, np.uint8)
    assert (sample_bilinear(image, np.array([[1.0]]), np.array([[2.0]]), 0) == 200).all()
    half_out = sample_bilinear(image, np.array([[-0.5]]), np.array([[1.0]]), 0)
    assert (half_out == 100).all()


@pytest.mark.parametrize("shape, n_out", [((620, 590, 3), 279), ((101, 7, 3), 13), ((50, 40), 49), ((30, 4, 3), 2),
                                          ((900, 5, 3), 31), ((9000, 3), 7)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_block_sums_are_reduceats_bit_for_bit(shape, n_out, dtype):
    """Area averaging's block sums (a large face's region, shrunk before the warp) equal
    NumPy's reduceat exactly, so the crops the embedder sees do not change."""
    from photoface.imaging import _block_sums

    x = (np.random.default_rng(n_out).random(shape) * 255).astype(dtype)
    idx = np.floor(np.arange(n_out + 1) * (shape[0] / n_out)).astype(np.intp)
    idx[-1] = shape[0]
    assert np.array_equal(_block_sums(x, idx, 0), np.add.reduceat(x, idx[:-1], axis=0, dtype=np.float32))


def test_area_shrink_matches_opencv_inter_area():
    cv2 = pytest.importorskip("cv2")
    from photoface.imaging import resize_area

    image = np.random.default_rng(3).integers(0, 256, (317, 251, 3), dtype=np.uint8)
    ours = resize_area(image, (113, 140)).astype(int)
    assert np.abs(ours - cv2.resize(image, (113, 140), interpolation=cv2.INTER_AREA)).max() <= 1
