# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Under bf16 autocast the first convolution (raw fluxes in) computes in fp32."""

import numpy as np
import pytest
import torch

from survey2survey.translators import Translator


@pytest.mark.parametrize("name", ["aecnn", "psfnet", "unet"])
def test_first_convolution_in_fp32_the_rest_in_bf16(name):
    """Output dtypes of the first and a later convolution under precision='bf16'."""
    if name == "psfnet":
        translator = Translator.create(name, in_channels=24, out_channels=6, target_channels=3,
                                       linear_output=True)
    else:
        translator = Translator.create(name, in_channels=3)
    convs = [m for m in translator.network.modules() if isinstance(m, torch.nn.Conv2d)]
    seen = {}

    def recorder(key):
        def hook(module, args, out):
            seen.setdefault(key, (args[0].dtype, out.dtype))  # returns None: output unchanged
        return hook

    handles = [conv.register_forward_hook(recorder(key))
               for key, conv in (("first", convs[0]), ("later", convs[1]))]
    batch = torch.rand(2, translator.in_channels, 32, 32) + 0.5
    try:
        translator.predict(batch, precision="bf16")
    finally:
        for handle in handles:
            handle.remove()
    assert seen["first"] == (torch.float32, torch.float32)
    assert seen["later"][1] == torch.bfloat16
    assert "forward" not in vars(convs[0])  # restored after the call
    fp32 = translator.predict(batch, precision="fp32")
    assert seen and torch.isfinite(fp32).all()


def test_fp32_call_is_untouched_and_bit_stable():
    """precision='fp32' keeps every layer as it is: the same bits twice."""
    translator = Translator.create("aecnn", in_channels=3)
    batch = torch.rand(2, 3, 24, 24)
    one = translator.predict(batch, precision="fp32").numpy()
    two = translator.predict(batch, precision="fp32").numpy()
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_outputs_do_not_depend_on_the_batch(precision):
    """The same images in batches of 3, or 2 then 1, give the same bits."""
    translator = Translator.create("aecnn", in_channels=1)
    batch = torch.rand(3, 1, 40, 40) * 100
    whole = translator.predict(batch, precision=precision, batch_size=3)
    split = torch.cat([translator.predict(batch[:2], precision=precision, batch_size=2),
                       translator.predict(batch[2:], precision=precision, batch_size=1)])
    np.testing.assert_array_equal(whole.numpy(), split.numpy())
