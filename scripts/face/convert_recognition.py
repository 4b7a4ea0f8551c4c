#!/usr/bin/env python3
"""Convert face-api's faceRecognitionNet (dlib ResNet-29 face descriptor, TF.js
weights from npm @vladmandic/face-api@1.7.15) into an ONNX model.

The graph reproduces face-api's src/faceRecognitionNet/FaceRecognitionNet.ts,
convLayer.ts, residualLayer.ts and scaleLayer.ts op for op:

  x        = (rgb - [122.782, 117.001, 104.298]) / 255        (NHWC, RGB 0..255)
  conv32_down : conv 7x7/2 'valid' + bias, *scale.w + scale.b, relu
  maxPool 3x3/2 'valid'
  residual      : relu( convNoRelu(conv(x)) + x )            ('same' 3x3/1 convs)
  residualDown  : out = convNoRelu(convDown(x))              (convDown = 3x3/2 'valid')
                  pooled = avgPool 2x2/2 'valid'(x), zero-padded on channels if C doubles
                  if spatial sizes differ, out is zero-padded by 1 row (bottom) and 1 col (right)
                  relu(pooled + out)
  mean over H,W -> matMul(fc [256,128])

Each convolution's following scale layer ((conv+b)*s+t) is folded into the
convolution: W' = W*s (per output channel), b' = b*s + t  (disable with --no-fold).

Usage:
  python convert_recognition.py --model-dir <face-api>/model --out face_recognition.onnx
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN_RGB = [122.782, 117.001, 104.298]


def load_tfjs_weights(model_dir, name="face_recognition_model"):
    """Read a TF.js weights manifest + its .bin shards; dequantise like tfjs-core
    io.decodeWeights does (value = q*scale + min, computed in double, stored float32)."""
    with open(os.path.join(model_dir, f"{name}-weights_manifest.json")) as f:
        manifest = json.load(f)
    out = {}
    order = []
    for group in manifest:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = w["shape"]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if w["dtype"] != "float32":
                raise ValueError(f"unsupported dtype {w['dtype']} for {w['name']}")
            if q is None:
                arr = np.frombuffer(buf, dtype="<f4", count=n, offset=off).astype(np.float32)
                off += 4 * n
            elif q["dtype"] in ("uint8", "uint16"):
                dt = np.uint8 if q["dtype"] == "uint8" else np.dtype("<u2")
                qa = np.frombuffer(buf, dtype=dt, count=n, offset=off)
                off += qa.itemsize * n
                arr = (qa.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
            elif q["dtype"] == "float16":
                arr = np.frombuffer(buf, dtype="<f2", count=n, offset=off).astype(np.float32)
                off += 2 * n
            else:
                raise ValueError(f"unsupported quantization {q}")
            out[w["name"]] = arr.reshape(shape)
            order.append(w["name"])
        if off != len(buf):
            raise ValueError(f"manifest consumed {off} bytes but shards hold {len(buf)}")
    return out, order


class GraphBuilder:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, op_type, inputs, base=None, out=None, **attrs):
        out = out or self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def build(weights, fold=True, spatial=150):
    g = GraphBuilder()
    x = "input"  # [N,150,150,3] float32 RGB 0..255
    mean = g.const("mean_rgb", np.array(MEAN_RGB, np.float32).reshape(1, 1, 1, 3))
    x = g.op("Sub", [x, mean], "sub_mean")
    x = g.op("Div", [x, g.const("c255", np.array(255.0, np.float32))], "div255")
    x = g.op("Transpose", [x], "to_nchw", perm=[0, 3, 1, 2])
    size = [spatial]  # track H (=W)

    def conv_layer(inp, prefix, stride, relu, padding, cur):
        W = weights[f"{prefix}/conv/filters"]  # HWIO
        b = weights[f"{prefix}/conv/bias"]
        s = weights[f"{prefix}/scale/weights"]
        t = weights[f"{prefix}/scale/biases"]
        k = W.shape[0]
        Wo = np.ascontiguousarray(W.transpose(3, 2, 0, 1))  # OIHW
        if padding == "same":
            # TF 'same' for stride 1, odd k: symmetric pad (k-1)/2
            assert stride == 1
            pads = [(k - 1) // 2] * 4
            nxt = cur
        else:
            pads = [0, 0, 0, 0]
            nxt = (cur - k) // stride + 1
        if fold:
            Wf = (Wo.astype(np.float64) * s.astype(np.float64)[:, None, None, None]).astype(np.float32)
            bf = (b.astype(np.float64) * s + t).astype(np.float32)
            y = g.op("Conv", [inp, g.const(prefix + "/W", Wf), g.const(prefix + "/B", bf)], prefix + "/conv",
                     kernel_shape=[k, k], strides=[stride, stride], pads=pads)
        else:
            y = g.op("Conv", [inp, g.const(prefix + "/W", Wo), g.const(prefix + "/B", b)], prefix + "/conv",
                     kernel_shape=[k, k], strides=[stride, stride], pads=pads)
            y = g.op("Mul", [y, g.const(prefix + "/s", s.reshape(1, -1, 1, 1))], prefix + "/scale_mul")
            y = g.op("Add", [y, g.const(prefix + "/t", t.reshape(1, -1, 1, 1))], prefix + "/scale_add")
        if relu:
            y = g.op("Relu", [y], prefix + "/relu")
        return y, nxt

    def residual(inp, prefix, cur):
        y, _ = conv_layer(inp, prefix + "/conv1", 1, True, "same", cur)
        y, _ = conv_layer(y, prefix + "/conv2", 1, False, "same", cur)
        y = g.op("Add", [y, inp], prefix + "/add")
        return g.op("Relu", [y], prefix + "/relu"), cur

    def residual_down(inp, prefix, cur, cin):
        y, c1 = conv_layer(inp, prefix + "/conv1", 2, True, "valid", cur)
        y, _ = conv_layer(y, prefix + "/conv2", 1, False, "same", c1)
        cout = weights[prefix + "/conv2/conv/filters"].shape[3]
        pooled = g.op("AveragePool", [inp], prefix + "/avgpool", kernel_shape=[2, 2], strides=[2, 2])
        pcur = (cur - 2) // 2 + 1
        if cout != cin:  # tf.concat([pooled, zeros], channel axis)
            pads = g.const(prefix + "/cpads", np.array([0, 0, 0, 0, 0, cout - cin, 0, 0], np.int64))
            pooled = g.op("Pad", [pooled, pads], prefix + "/chanpad", mode="constant")
        if pcur != c1:  # face-api appends one zero row then one zero column to `out`
            assert pcur == c1 + 1, (pcur, c1)
            pads = g.const(prefix + "/spads", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))
            y = g.op("Pad", [y, pads], prefix + "/spatialpad", mode="constant")
        y = g.op("Add", [pooled, y], prefix + "/add")
        return g.op("Relu", [y], prefix + "/relu"), pcur, cout

    cur = spatial
    x, cur = conv_layer(x, "conv32_down", 2, True, "valid", cur)
    x = g.op("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2])
    cur = (cur - 3) // 2 + 1
    c = 32
    for name in ["conv32_1", "conv32_2", "conv32_3"]:
        x, cur = residual(x, name, cur)
    for blk in [("conv64_down", ["conv64_1", "conv64_2", "conv64_3"]),
                ("conv128_down", ["conv128_1", "conv128_2"]),
                ("conv256_down", ["conv256_1", "conv256_2"])]:
        x, cur, c = residual_down(x, blk[0], cur, c)
        for name in blk[1]:
            x, cur = residual(x, name, cur)
    x, cur, c = residual_down(x, "conv256_down_out", cur, c)
    x = g.op("ReduceMean", [x], "global_avg", axes=[2, 3], keepdims=0)  # [N,256]
    x = g.op("MatMul", [x, g.const("fc", weights["fc"])], out="descriptor")  # fc is [256,128]

    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", spatial, spatial, 3])
    outp = helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])
    graph = helper.make_graph(g.nodes, "dlib_resnet_face_descriptor", [inp], [outp], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="attn/scripts/face/convert_recognition.py")
    model.ir_version = 7
    model.doc_string = ("dlib ResNet face descriptor (weights: npm @vladmandic/face-api@1.7.15 "
                        "face_recognition_model). input: float32 [N,150,150,3] NHWC, RGB, 0..255, "
                        "aligned dlib chip (150x150, padding 0.25). Mean-RGB subtraction and /255 are "
                        "inside the graph. output: descriptor float32 [N,128] (not L2-normalised; "
                        "compare with Euclidean distance, dlib threshold 0.6).")
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True, help="face-api's model/ folder")
    ap.add_argument("--out", default="face_recognition.onnx")
    ap.add_argument("--no-fold", action="store_true", help="keep scale layers as explicit Mul/Add")
    a = ap.parse_args()
    weights, order = load_tfjs_weights(a.model_dir)
    print(f"loaded {len(weights)} tensors, {sum(w.size for w in weights.values())} values", file=sys.stderr)
    model = build(weights, fold=not a.no_fold)
    onnx.save(model, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes, {len(model.graph.node)} nodes)", file=sys.stderr)


if __name__ == "__main__":
    main()
