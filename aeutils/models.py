"""Lesson models that a notebook taught and later notebooks reuse. Importing it imports Keras.

Each object is the code of the notebook that teaches it, copied unchanged (its own docstring
included); ``tests/test_models.py`` checks that the two stay the same, so change the notebook
and this file together.

``Sampling`` (taught in notebook 06)
    A layer: ``Sampling(seed=None)(z_mean, z_log_var)`` takes two float tensors of the same
    shape ``(batch, latent_dim)``, the mean and the log-variance of a diagonal Gaussian, and
    returns a sample ``z = z_mean + exp(0.5 * z_log_var) * epsilon`` of that shape, with
    ``epsilon ~ N(0, I)`` drawn from the layer's own ``keras.random.SeedGenerator(seed)``.

``kl_divergence`` (taught in notebook 06)
    ``kl_divergence(z_mean, z_log_var)`` with two tensors (or NumPy arrays) of shape
    ``(batch, latent_dim)`` returns a tensor of shape ``(batch,)``: KL(N(mu, sigma^2) || N(0, I))
    per example in nats, summed over the latent dimensions; always >= 0, and 0 exactly at
    mu = 0, log_var = 0.

``VAE`` (taught in notebook 06)
    ``VAE(encoder, decoder, seed=None)`` wraps two Keras models: ``encoder`` maps images of
    any shape ``(batch, ...)`` with values in [0, 1] to ``[z_mean, z_log_var]``, each
    ``(batch, latent_dim)``; ``decoder`` maps ``(batch, latent_dim)`` codes back to images of
    the input's shape, with values in (0, 1) (a sigmoid output). ``vae(x)`` and
    ``vae.predict(x)`` return the encoder's ``[z_mean, z_log_var]``; ``fit(x)`` minimises
    ``compute_loss``: the mean over the batch of the negative ELBO per image, in nats, i.e.
    the binary cross-entropy of the decoded sample ``z = mu + sigma * epsilon`` summed over
    the pixels plus ``kl_divergence``. The metrics ``reconstruction`` and ``kl`` report the
    two terms. The class is registered as ``aecourse>VAE`` (and ``Sampling`` as
    ``aecourse>Sampling``), so ``.keras`` files load in safe mode.
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = ["VAE", "Sampling", "kl_divergence"]


@keras.saving.register_keras_serializable(package="aecourse")
class Sampling(layers.Layer):
    """z = mu + sigma * epsilon, with sigma = exp(0.5 * log_var) and epsilon ~ N(0, I)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean, z_log_var):
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """KL(N(mu, sigma^2) || N(0, I)) per example, summed over latent dimensions."""
    # tensors or NumPy arrays alike (PyTorch cannot mix the two in one expression)
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


@keras.saving.register_keras_serializable(package="aecourse")
class VAE(keras.Model):
    """A variational autoencoder: loss = sum-over-pixels BCE + KL to N(0, I), per image."""

    def __init__(self, encoder, decoder, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.seed = seed
        self.sampling = Sampling(seed=seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def call(self, x):
        return self.encoder(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_mean, z_log_var = y_pred
        reconstruction = self.decoder(self.sampling(z_mean, z_log_var), training=training)
        per_pixel = ops.binary_crossentropy(x, reconstruction)
        reconstruction_loss = ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=1)
        kl = kl_divergence(z_mean, z_log_var)
        self.reconstruction_tracker.update_state(reconstruction_loss)
        self.kl_tracker.update_state(kl)
        return ops.mean(reconstruction_loss + kl)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)
