"""Unit tests of aeutils.plotting."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from aeutils import config, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("shape", [(12, 784), (12, 28, 28), (12, 28, 28, 1)])
def test_reconstructions_accepts_every_mnist_shape(shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    fig = plotting.reconstructions(x, x, n=5, title="t")
    assert len(fig.axes) == 10
    assert fig.axes[0].get_ylabel() == "original" and fig.axes[5].get_ylabel() == "reconstruction"


@pytest.mark.parametrize(
    "originals, reconstructed, n, error",
    [
        (np.zeros((4, 784)), np.zeros((4, 784)), 5, ValueError),
        (np.zeros((4, 784)), np.zeros((3, 784)), 2, ValueError),
        (np.zeros((4, 100)), np.zeros((4, 100)), 2, ValueError),
        (np.zeros((4, 784), np.uint8), np.zeros((4, 784)), 2, TypeError),
        (np.zeros((4, 784)), np.full((4, 784), 3.0), 2, ValueError),
        (np.zeros((4, 784)), np.zeros((4, 784)), 0, ValueError),
    ],
)
def test_reconstructions_bad_input(originals, reconstructed, n, error):
    with pytest.raises(error):
        plotting.reconstructions(originals, reconstructed, n=n)


def test_image_rows_labels_must_be_a_list_of_strings():
    x = np.zeros((3, 784))
    with pytest.raises(TypeError, match="labels"):
        plotting.image_rows([x, x], labels="ab")


def test_reconstructions_labels_must_be_a_list_of_strings():
    x = np.zeros((3, 784))
    with pytest.raises(TypeError, match="list of strings"):
        plotting.reconstructions(x, x, n=2, labels="ab")
    fig = plotting.reconstructions(x, x, n=2, labels=["noisy", "denoised"])
    assert [fig.axes[0].get_ylabel(), fig.axes[2].get_ylabel()] == ["noisy", "denoised"]


@pytest.mark.parametrize(
    "size, error",
    [
        (0, ValueError),
        (0.0, ValueError),
        (-1.0, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ("1", TypeError),
        (True, TypeError),
    ],
)
def test_image_rows_size_must_be_a_positive_finite_number(size, error):
    x = np.zeros((3, 784))
    with pytest.raises(error, match="^size must"):
        plotting.image_rows([x, x], size=size)
    assert plotting.image_rows([x, x], size=0.5).get_size_inches()[0] == pytest.approx(1.5)


def test_image_rows_labels_must_match():
    x = np.zeros((3, 784))
    fig = plotting.image_rows([x, x, x], labels=["a", "b", "c"])
    assert len(fig.axes) == 9
    with pytest.raises(ValueError, match="labels"):
        plotting.image_rows([x, x], labels=["a"])


def test_loss_curves_from_dict_and_history():
    logs = {"loss": [0.3, 0.2], "val_loss": [0.31, 0.22]}
    fig = plotting.loss_curves(logs, reference=0.09)
    assert len(fig.axes[0].lines) == 3

    class History:
        history = logs

    assert len(plotting.loss_curves(History()).axes[0].lines) == 2
    labels = plotting.loss_curves({"val_a": [1.0], "b": [2.0]}).axes[0].get_legend_handles_labels()
    assert labels[1] == ["validation a", "training b"]
    with pytest.raises(TypeError, match="History"):
        plotting.loss_curves([0.3, 0.2])
    with pytest.raises(TypeError):
        plotting.loss_curves({})
    with pytest.raises(ValueError, match="per-epoch"):
        plotting.loss_curves({"loss": []})


def test_save_fig_writes_nothing_in_quick_mode(monkeypatch, tmp_path):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    fig = plotting.loss_curves({"loss": [1.0]})
    assert plotting.save_fig("00_test_figure", fig) is None
    assert not (tmp_path / "images").exists()


def test_save_fig_writes_only_when_recording(monkeypatch, tmp_path):
    monkeypatch.setenv(config.QUICK_ENV, "0")
    monkeypatch.setattr(config, "repo_root", lambda: tmp_path)
    fig = plotting.loss_curves({"loss": [1.0]})
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    assert plotting.save_fig("00_test_figure", fig) is None
    monkeypatch.setenv(config.RECORD_ENV, "1")
    path = plotting.save_fig("00_test_figure", fig)
    assert path == tmp_path / "images" / "00_test_figure.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["00_test_figure.png"]


@pytest.mark.parametrize("quick", ["1", "0"])
def test_save_fig_checks_its_arguments_in_every_mode(monkeypatch, tmp_path, quick):
    monkeypatch.setenv(config.QUICK_ENV, quick)
    monkeypatch.delenv(config.RECORD_ENV, raising=False)
    with pytest.raises(TypeError, match="Figure"):
        plotting.save_fig("00_test_figure", None)
    with pytest.raises(ValueError, match="nothing drawn"):
        plotting.save_fig("00_test_figure", plt.figure())


@pytest.mark.parametrize("name", ["", "a/b", "../x", "fig.png", 3, "figure", "01_x.png", "1_x"])
def test_save_fig_bad_name(name):
    with pytest.raises(ValueError):
        plotting.save_fig(name, plotting.loss_curves({"loss": [1.0]}))


@pytest.mark.parametrize("bad", [float("nan"), None, float("inf")])
def test_loss_curves_refuse_values_that_cannot_be_drawn(bad):
    with pytest.raises(ValueError, match="NaN"):
        plotting.loss_curves({"loss": [0.3, bad]})


@pytest.mark.parametrize("bad", ["0.2", b"0.2", [0.2], {"loss": 0.2}])
def test_loss_curves_refuse_values_that_are_not_numbers(bad):
    with pytest.raises(TypeError, match="'val_loss'"):
        plotting.loss_curves({"loss": [0.3, 0.2], "val_loss": [0.31, bad]})
    assert len(plotting.loss_curves({"loss": [np.float32(0.3), 1]}).axes[0].lines) == 1
