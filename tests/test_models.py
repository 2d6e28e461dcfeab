"""aeutils.models holds notebook 06's VAE code unchanged, and that code computes what it says.

Notebook 06 teaches ``Sampling``, ``kl_divergence`` and ``VAE``; notebooks 12 and 13 import
them from ``aeutils.models``. The first tests keep the notebook and the package the same code;
the others check the loss on a tiny batch without training anything.
"""

import ast
import inspect
import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers, ops

from aeutils import models

ROOT = Path(__file__).resolve().parents[1]
TEACHER = ROOT / "notebooks" / "06_variational_autoencoder.ipynb"
TAUGHT = ["Sampling", "kl_divergence", "VAE"]
LATER = ["12_latent_space.ipynb", "13_features_from_few_labels.ipynb"]


def _code_cells(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _top_level_definitions(path):
    """name -> list of source texts (decorators included) of top-level classes and functions."""
    found = {}
    for source in _code_cells(path):
        tree = ast.parse(source)
        lines = source.splitlines()
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                text = "\n".join(lines[first - 1 : node.end_lineno])
                found.setdefault(node.name, []).append(text)
    return found


def _normalised(source):
    return ast.dump(ast.parse(source))


def _notebook_source(name):
    definitions = _top_level_definitions(TEACHER).get(name, [])
    assert len(definitions) == 1, f"{TEACHER.name} defines {name} {len(definitions)} times"
    return definitions[0]


@pytest.mark.parametrize("name", TAUGHT)
def test_package_holds_the_code_notebook_06_teaches(name):
    ours = inspect.getsource(getattr(models, name))
    assert _normalised(_notebook_source(name)) == _normalised(ours), (
        f"aeutils.models.{name} differs from the {name} that {TEACHER.name} teaches: "
        "change both together"
    )


@pytest.mark.parametrize("notebook", LATER)
def test_later_notebooks_import_the_taught_vae(notebook):
    path = ROOT / "notebooks" / notebook
    redefined = set(_top_level_definitions(path)) & set(TAUGHT)
    assert not redefined, f"{notebook} defines its own {sorted(redefined)}"
    assert "from aeutils.models import VAE" in "\n".join(_code_cells(path))


def _tiny_vae(vae_class, seed=0):
    image = keras.Input(shape=(8,))
    encoder = keras.Model(image, [layers.Dense(2)(image), layers.Dense(2)(image)])
    code = keras.Input(shape=(2,))
    decoder = keras.Model(code, layers.Dense(8, activation="sigmoid")(code))
    return vae_class(encoder, decoder, seed=seed)


def test_kl_divergence_is_zero_at_the_prior_and_positive_away_from_it():
    zero = ops.convert_to_numpy(models.kl_divergence(ops.zeros((3, 2)), ops.zeros((3, 2))))
    assert zero.shape == (3,) and np.all(zero == 0.0)
    # notebook 06's hand check: mu = 1, sigma^2 = 4 in 2 dimensions gives 4 - log 4
    away = models.kl_divergence(ops.ones((1, 2)), ops.log(ops.full((1, 2), 4.0)))
    assert ops.convert_to_numpy(away)[0] == pytest.approx(4 - math.log(4), rel=1e-6)


def test_kl_divergence_takes_numpy_arrays_as_well_as_tensors():
    # PyTorch cannot subtract a tensor from an array: the function converts its inputs itself
    mean, log_var = np.ones((1, 2), "float32"), np.full((1, 2), np.log(4.0), "float32")
    from_arrays = ops.convert_to_numpy(models.kl_divergence(mean, log_var))
    from_tensors = ops.convert_to_numpy(
        models.kl_divergence(ops.convert_to_tensor(mean), ops.convert_to_tensor(log_var))
    )
    np.testing.assert_allclose(from_arrays, from_tensors)
    np.testing.assert_allclose(from_arrays, [2 * 0.5 * (4.0 + 1.0 - 1.0 - np.log(4.0))], rtol=1e-6)


def test_compute_loss_on_a_tiny_batch_is_finite_and_is_reconstruction_plus_kl():
    keras.utils.set_random_seed(0)
    vae = _tiny_vae(models.VAE)
    x = np.random.default_rng(0).random((4, 8)).astype("float32")
    loss = float(ops.convert_to_numpy(vae.compute_loss(x=x, y=x, y_pred=vae(x))))
    reconstruction = float(ops.convert_to_numpy(vae.reconstruction_tracker.result()))
    kl = float(ops.convert_to_numpy(vae.kl_tracker.result()))
    assert all(math.isfinite(v) for v in (loss, reconstruction, kl)), (loss, reconstruction, kl)
    assert reconstruction > 0 and kl >= 0
    assert loss == pytest.approx(reconstruction + kl, rel=1e-5)


def test_keras_file_reloads_when_notebook_and_package_both_register_the_classes(tmp_path):
    # In a session that imported aeutils.models, running notebook 06's cells registers
    # 'aecourse>Sampling' and 'aecourse>VAE' a second time. Keras 3 keeps the last
    # registration (same code), so saving and loading in safe mode still works.
    registry = keras.saving.get_custom_objects()
    before = dict(registry)
    namespace = {"keras": keras, "layers": layers, "ops": ops}
    try:
        for name in TAUGHT:
            exec(_notebook_source(name), namespace)
        keras.utils.set_random_seed(0)
        vae = _tiny_vae(namespace["VAE"])
        x = np.random.default_rng(0).random((4, 8)).astype("float32")
        path = tmp_path / "vae.keras"
        vae.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        assert type(reloaded).__name__ == "VAE"
        np.testing.assert_array_equal(
            ops.convert_to_numpy(reloaded(x)[0]), ops.convert_to_numpy(vae(x)[0])
        )
    finally:
        registry.clear()
        registry.update(before)
