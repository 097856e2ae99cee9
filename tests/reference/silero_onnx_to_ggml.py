"""faster-whisper's Silero VAD (faster_whisper/assets/silero_vad_v6.onnx) rewritten in whisper.cpp's Silero ggml
layout (the one src/vad/silero_model.h reads), all tensors float32, so that wisp's network can run on exactly the
weights faster-whisper uses.

faster-whisper 1.2.1's model is not the v6.2.0 network wisp ships: every weight but the STFT basis differs. With
these weights wisp's forward pass must reproduce faster-whisper's probabilities to float32 rounding; with the
shipped ones only the model's own behaviour can be compared.

The ONNX file is read with a minimal protobuf reader (ModelProto.graph.initializer: dims, data_type, name,
raw_data / float_data), so no onnx package is needed. ONNX's LSTM stores its gates in i, o, f, c order and one
bias of [W_b; R_b]; PyTorch (and the ggml file) use i, f, g, o and two biases.
"""

import struct

import numpy as np

FLOAT = 1  # TensorProto.FLOAT


def _varint(b, p):
    result = shift = 0
    while True:
        x = b[p]
        p += 1
        result |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return result, p


def _fields(b):
    """(field number, wire type, value) of every field of a protobuf message."""
    p = 0
    while p < len(b):
        key, p = _varint(b, p)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, p = _varint(b, p)
        elif wire == 1:
            value, p = b[p : p + 8], p + 8
        elif wire == 5:
            value, p = b[p : p + 4], p + 4
        elif wire == 2:
            n, p = _varint(b, p)
            value, p = b[p : p + n], p + n
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        yield field, wire, value


def onnx_initializers(path):
    """{name: float32 array} of the ONNX model's float initializers."""
    with open(path, "rb") as f:
        model = f.read()
    graph = next(v for f, _, v in _fields(model) if f == 7)  # ModelProto.graph
    out = {}
    for field, _, tensor in _fields(graph):
        if field != 5:  # GraphProto.initializer
            continue
        dims, dtype, name, raw, floats = [], 0, "", b"", []
        for g, wire, v in _fields(tensor):
            if g == 1:  # dims (packed or not)
                if wire == 0:
                    dims.append(v)
                else:
                    q = 0
                    while q < len(v):
                        d, q = _varint(v, q)
                        dims.append(d)
            elif g == 2:
                dtype = v
            elif g == 8:
                name = v.decode()
            elif g == 9:
                raw = v
            elif g == 4:
                floats += list(struct.unpack("<%df" % (len(v) // 4), v)) if wire == 2 else [struct.unpack("<f", v)[0]]
        if dtype == FLOAT:
            arr = np.frombuffer(raw, "<f4") if raw else np.array(floats, "<f4")
            out[name] = arr.reshape(dims)
    return out


def _ifgo(w):
    """ONNX LSTM gate blocks i, o, f, c → PyTorch's i, f, g(=c), o (along the first axis)."""
    i, o, f, c = np.split(np.asarray(w), 4, axis=0)
    return np.concatenate([i, f, c, o], axis=0)


def convert(onnx_path, out_path):
    w = onnx_initializers(onnx_path)
    lstm = [k for k in w if k.startswith("onnx::LSTM")]
    by_size = {w[k].size: k for k in lstm}
    W, R = sorted([k for k in lstm if w[k].size == 512 * 128], key=lambda k: int(k.rsplit("_", 1)[1]))
    B = by_size[1024]
    tensors = [
        ("_model.encoder.%d.reparam_conv.%s" % (i, kind), w["encoder.conv_layers.%d.%s" % (i, kind)])
        for i in range(4)
        for kind in ("weight", "bias")
    ]
    bias = w[B].reshape(1024)
    tensors += [
        ("_model.decoder.rnn.weight_ih", _ifgo(w[W].reshape(512, 128))),
        ("_model.decoder.rnn.weight_hh", _ifgo(w[R].reshape(512, 128))),
        ("_model.decoder.rnn.bias_ih", _ifgo(bias[:512])),
        ("_model.decoder.rnn.bias_hh", _ifgo(bias[512:])),
        ("_model.decoder.decoder.2.weight", w["decoder.conv1d.weight"].reshape(128)),
        ("_model.decoder.decoder.2.bias", w["decoder.conv1d.bias"].reshape(())),
        ("_model.stft.forward_basis_buffer", w["encoder.feature_extractor.forward_basis_buffer"]),
    ]
    with open(out_path, "wb") as f:
        f.write(struct.pack("<i", 0x67676D6C))
        f.write(struct.pack("<i", 10) + b"silero-16k")
        f.write(struct.pack("<3i", 6, 0, 0))  # the ONNX file records no version; v6 by faster-whisper's name
        f.write(struct.pack("<3i", 512, 64, 4))
        for cin, cout in ((129, 128), (128, 64), (64, 64), (64, 128)):
            f.write(struct.pack("<3i", cin, cout, 3))
        f.write(struct.pack("<4i", 128, 128, 128, 1))
        for name, arr in tensors:
            arr = np.ascontiguousarray(arr, dtype="<f4")
            dims = list(reversed(arr.shape))  # ggml order: fastest first
            f.write(struct.pack("<3i", len(dims), len(name), 0))
            f.write(struct.pack("<%di" % len(dims), *dims))
            f.write(name.encode())
            f.write(arr.tobytes())
