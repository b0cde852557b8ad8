"""Convert an ONNX Runtime ``.ort`` (flatbuffers) model back to an ONNX ``ModelProto``.

Moonshine's English weights ship only as ORT-format files whose graph turns int8 weights
back to float at every decoder step; as ONNX, onnxruntime can optimise (and re-quantise) the
graph. The flatbuffers classes come with onnxruntime; ``onnx`` is needed only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_EXTERNAL_DATA = "the model keeps tensor data outside its flatbuffer (not supported)"


def _fbs() -> Any:
    """onnxruntime's generated flatbuffers classes for the ORT format."""
    from onnxruntime.tools.ort_format_model.ort_flatbuffers_py import fbs

    return fbs


def _str(value: bytes | None) -> str:
    """A flatbuffers string as text ('' when absent)."""
    return value.decode() if value else ""


def _tensor(t: Any) -> Any:
    """A flatbuffers Tensor as an onnx TensorProto (raw data kept byte for byte)."""
    import onnx

    if t.ExternalDataOffset() >= 0:
        raise ValueError(_EXTERNAL_DATA)
    proto = onnx.TensorProto()
    proto.name = _str(t.Name())
    proto.data_type = t.DataType()  # ORT's TensorDataType numbers are onnx's
    proto.dims.extend(t.Dims(i) for i in range(t.DimsLength()))
    if t.StringDataLength():
        proto.string_data.extend(t.StringData(i) for i in range(t.StringDataLength()))
    elif t.RawDataLength():
        proto.raw_data = t.RawDataAsNumpy().tobytes()
    return proto


def _value_info(v: Any) -> Any:
    """A flatbuffers ValueInfo (NodeArg) as an onnx ValueInfoProto."""
    import onnx

    fbs = _fbs()
    proto = onnx.ValueInfoProto()
    proto.name = _str(v.Name())
    tinfo = v.Type()
    if tinfo is None or tinfo.ValueType() != fbs.TypeInfoValue.TypeInfoValue.tensor_type:
        return proto  # untyped: onnx infers it
    tt = fbs.TensorTypeAndShape.TensorTypeAndShape()
    tt.Init(tinfo.Value().Bytes, tinfo.Value().Pos)
    tensor_type = proto.type.tensor_type
    tensor_type.elem_type = tt.ElemType()
    shape = tt.Shape()
    if shape is not None:
        tensor_type.shape.SetInParent()  # a known rank, even 0, is not "unknown shape"
        for i in range(shape.DimLength()):
            dim = tensor_type.shape.dim.add()
            value = shape.Dim(i).Value()
            if value is None:
                continue
            kind = value.DimType()
            if kind == fbs.DimensionValueType.DimensionValueType.VALUE:
                dim.dim_value = value.DimValue()
            elif kind == fbs.DimensionValueType.DimensionValueType.PARAM:
                dim.dim_param = _str(value.DimParam())
    return proto


def _attribute(a: Any) -> Any:
    """A flatbuffers Attribute as an onnx AttributeProto (same type numbers)."""
    import onnx

    kinds = onnx.AttributeProto
    proto = onnx.AttributeProto()
    proto.name = _str(a.Name())
    proto.type = a.Type()
    if proto.type == kinds.FLOAT:
        proto.f = a.F()
    elif proto.type == kinds.INT:
        proto.i = a.I()
    elif proto.type == kinds.STRING:
        proto.s = a.S() or b""
    elif proto.type == kinds.TENSOR:
        proto.t.CopyFrom(_tensor(a.T()))
    elif proto.type == kinds.GRAPH:
        proto.g.CopyFrom(_graph(a.G(), proto.name))
    elif proto.type == kinds.FLOATS:
        proto.floats.extend(a.Floats(i) for i in range(a.FloatsLength()))
    elif proto.type == kinds.INTS:
        proto.ints.extend(a.Ints(i) for i in range(a.IntsLength()))
    elif proto.type == kinds.STRINGS:
        proto.strings.extend(a.Strings(i) for i in range(a.StringsLength()))
    elif proto.type == kinds.TENSORS:
        proto.tensors.extend(_tensor(a.Tensors(i)) for i in range(a.TensorsLength()))
    elif proto.type == kinds.GRAPHS:
        proto.graphs.extend(_graph(a.Graphs(i), proto.name) for i in range(a.GraphsLength()))
    else:
        raise ValueError(f"attribute {proto.name!r} has an unsupported type {proto.type}")
    return proto


def _graph(g: Any, name: str) -> Any:
    """A flatbuffers Graph (or subgraph) as an onnx GraphProto."""
    import onnx

    if g.SparseInitializersLength():
        raise ValueError("sparse initializers are not supported")
    proto = onnx.GraphProto()
    proto.name = name
    proto.initializer.extend(_tensor(g.Initializers(i)) for i in range(g.InitializersLength()))
    args = {}
    for i in range(g.NodeArgsLength()):
        info = _value_info(g.NodeArgs(i))
        args[info.name] = info
    inputs = [_str(g.Inputs(i)) for i in range(g.InputsLength())]
    outputs = [_str(g.Outputs(i)) for i in range(g.OutputsLength())]
    initialized = {t.name for t in proto.initializer}
    # ORT lists initializers among graph inputs only when they are overridable; ONNX doesn't mind.
    proto.input.extend(args.get(n) or onnx.ValueInfoProto(name=n) for n in inputs)
    proto.output.extend(args.get(n) or onnx.ValueInfoProto(name=n) for n in outputs)
    boundary = set(inputs) | set(outputs) | initialized
    proto.value_info.extend(
        v for n, v in args.items() if n not in boundary and v.type.tensor_type.elem_type
    )
    nodes = [g.Nodes(i) for i in range(g.NodesLength())]
    for node in sorted(nodes, key=lambda n: n.Index()):  # ORT keeps them in topological order
        out = proto.node.add()
        out.name = _str(node.Name())
        out.op_type = _str(node.OpType())
        out.domain = _str(node.Domain())
        out.input.extend(_str(node.Inputs(i)) for i in range(node.InputsLength()))
        out.output.extend(_str(node.Outputs(i)) for i in range(node.OutputsLength()))
        out.attribute.extend(_attribute(node.Attributes(i)) for i in range(node.AttributesLength()))
    return proto


def ort_to_onnx(data: bytes) -> Any:
    """Convert the bytes of an ``.ort`` file to an onnx ``ModelProto``."""
    import onnx

    fbs = _fbs()
    if not fbs.InferenceSession.InferenceSession.InferenceSessionBufferHasIdentifier(data, 0):
        raise ValueError("not an ORT-format model (no ORTM identifier)")
    session = fbs.InferenceSession.InferenceSession.GetRootAsInferenceSession(data, 0)
    model = session.Model()
    proto = onnx.ModelProto()
    proto.ir_version = model.IrVersion()
    proto.producer_name = _str(model.ProducerName())
    proto.producer_version = _str(model.ProducerVersion())
    proto.domain = _str(model.Domain())
    proto.model_version = model.ModelVersion()
    for i in range(model.OpsetImportLength()):
        opset = model.OpsetImport(i)
        proto.opset_import.add(domain=_str(opset.Domain()), version=opset.Version())
    proto.graph.CopyFrom(_graph(model.Graph(), "main"))
    return proto


def convert_file(src: Path, dest: Path) -> None:
    """Convert ``src`` (.ort) to ``dest`` (.onnx), writing ``dest`` directly."""
    import onnx

    onnx.save_model(ort_to_onnx(Path(src).read_bytes()), str(dest))


def _consumers(graph: Any) -> dict[str, list[tuple[Any, Any, int]]]:
    """Value name -> [(graph, node, input index)] over a graph and all its subgraphs."""
    import onnx

    found: dict[str, list[tuple[Any, Any, int]]] = {}

    def walk(g: Any) -> None:
        for node in g.node:
            for i, name in enumerate(node.input):
                found.setdefault(name, []).append((g, node, i))
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                for sub in attr.graphs:
                    walk(sub)

    walk(graph)
    return found


def int8_matmuls(model: Any) -> int:
    """Let int8 weights stay int8: ``MatMul(x, dequant(q))`` -> ``DynamicQuantizeMatMul``.

    Moonshine's graphs dequantise each weight as ``float(q) * scale + offset`` (per tensor,
    with ``offset / scale`` a whole number), which onnxruntime folds into float32 weights:
    four times the memory. With ``zero_point = -offset / scale`` the same weight feeds
    onnxruntime's int8 kernel directly. Convolutions and embedding lookups keep the float
    path. Rewrites ``model`` in place; returns how many matmuls now use int8 weights.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    produced: dict[str, Any] = {out: node for node in graph.node for out in node.output}
    users = _consumers(graph)
    added: list[Any] = []
    done: set[int] = set()
    rewritten = 0
    for add in [n for n in graph.node if n.op_type == "Add"]:
        mul = produced.get(add.input[0])
        if mul is None or mul.op_type != "Mul":
            continue
        cast = produced.get(mul.input[0])
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in inits:
            continue
        q = inits[cast.input[0]]
        if q.data_type != onnx.TensorProto.INT8 or len(q.dims) != 2:
            continue
        if add.input[1] not in inits or mul.input[1] not in inits:
            continue
        scale = numpy_helper.to_array(inits[mul.input[1]]).astype("float32").reshape(())
        offset = numpy_helper.to_array(inits[add.input[1]]).astype("float32").reshape(())
        steps = float(offset / scale)
        if abs(steps - round(steps)) > 1e-3 or not -128 <= -round(steps) <= 127:
            continue
        base = cast.input[0]
        zero = numpy_helper.from_array(np.array(-round(steps), np.int8), base + "_int8_zero")
        scale_t = numpy_helper.from_array(scale.reshape(()), base + "_int8_scale")
        transposed: str | None = None
        for g, node, index in users.get(add.output[0], []):
            targets: list[tuple[Any, Any, str]] = []
            if node.op_type == "Gather" and index == 0 and id(node) not in done:
                # Look rows up in the int8 table, then dequantise only those rows.
                done.add(id(node))
                rows = node.output[0] + "_int8"
                tail = [
                    helper.make_node("Cast", [rows], [rows + "_f"], to=onnx.TensorProto.FLOAT),
                    helper.make_node("Mul", [rows + "_f", mul.input[1]], [rows + "_s"]),
                    helper.make_node("Add", [rows + "_s", add.input[1]], list(node.output)),
                ]
                del node.output[:]
                node.output.append(rows)
                node.input[0] = base
                position = list(g.node).index(node) + 1
                for offset_i, extra in enumerate(tail):
                    g.node.insert(position + offset_i, extra)
                rewritten += 1
            elif node.op_type == "MatMul" and index == 1:
                targets.append((g, node, base))
            elif node.op_type == "Transpose" and len(users.get(node.output[0], [])) > 0:
                perm = [a.ints for a in node.attribute if a.name == "perm"]
                if perm and list(perm[0]) != [1, 0]:
                    continue
                for g2, node2, index2 in users[node.output[0]]:
                    if node2.op_type == "MatMul" and index2 == 1:
                        if transposed is None:
                            transposed = base + "_T"
                            data = numpy_helper.to_array(q).T.copy()
                            added.append(numpy_helper.from_array(data, transposed))
                        targets.append((g2, node2, transposed))
            for g3, matmul, weight in targets:
                if id(matmul) in done:
                    continue  # reached twice: a transposed weight shared by both If branches
                done.add(id(matmul))
                fused = helper.make_node(
                    "DynamicQuantizeMatMul",
                    [matmul.input[0], weight, scale_t.name, zero.name],
                    list(matmul.output),
                    name=(matmul.name or weight) + "_int8",
                    domain="com.microsoft",
                )
                position = list(g3.node).index(matmul)
                g3.node.remove(matmul)
                g3.node.insert(position, fused)
                rewritten += 1
        if rewritten and scale_t.name not in inits:
            added.extend([scale_t, zero])
            inits[scale_t.name] = scale_t
    graph.initializer.extend(added)
    _prune(model)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.add(domain="com.microsoft", version=1)
    return rewritten


def _prune(model: Any) -> None:
    """Drop main-graph nodes and initializers nothing uses any more."""
    graph = model.graph
    while True:
        used = set(_consumers(graph)) | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    used = set(_consumers(graph)) | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
