using Google.Protobuf;

namespace WebConsole.Inference.Onnx;

/// <summary>
/// Writes ONNX models (ModelProto bytes): the starter pack and the tests build graphs with the input and output
/// signatures of real exports. Hand-written against onnx.proto's field numbers; covers what those graphs need.
/// </summary>
/// <example>
/// <code>
/// var model = new OnnxModelBuilder()
///     .Input("X", OnnxDataType.Float, "batch", 3)
///     .Initializer(OnnxTensor.Floats("W", [3, 2], w))
///     .Node("MatMul", ["X", "W"], ["Y"])
///     .Output("Y", OnnxDataType.Float, "batch", 2)
///     .Build();
/// </code>
/// </example>
public sealed class OnnxModelBuilder
{
    // onnx.proto field numbers.
    private static class ModelField
    {
        public const int IrVersion = 1, ProducerName = 2, Graph = 7, OpsetImport = 8;
    }

    private static class GraphField
    {
        public const int Node = 1, Name = 2, Initializer = 5, Input = 11, Output = 12;
    }

    private static class NodeField
    {
        public const int Input = 1, Output = 2, Name = 3, OpType = 4, Attribute = 5, Domain = 7;
    }

    private static class ValueInfoField
    {
        public const int Name = 1, Type = 2;
    }

    private const int TypeProtoTensorType = 1;
    private const int TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1;
    private const int DimValue = 1, DimParam = 2;
    private const int OpsetDomain = 1, OpsetVersion = 2;

    // IR version 8 (ONNX 1.10+) is read by every ONNX Runtime from 1.10 on; opset 17 covers LayerNormalization.
    private readonly long _irVersion;
    private readonly string _graphName;
    private readonly List<(string Domain, long Version)> _opsets = [];
    private readonly List<ValueInfo> _inputs = [];
    private readonly List<ValueInfo> _outputs = [];
    private readonly List<OnnxTensor> _initializers = [];
    private readonly List<NodeSpec> _nodes = [];

    /// <summary>Starts a model with a graph name, IR version and default-domain opset.</summary>
    public OnnxModelBuilder(string graphName = "test_graph", long irVersion = 8, long opset = 17)
    {
        _graphName = graphName;
        _irVersion = irVersion;
        _opsets.Add((string.Empty, opset));
    }

    /// <summary>Imports an extra operator set, e.g. <c>com.microsoft</c> for contrib operators.</summary>
    public OnnxModelBuilder Opset(string domain, long version)
    {
        _opsets.Add((domain, version));
        return this;
    }

    /// <summary>A graph input; dimensions are numbers (fixed) or names (symbolic, e.g. "batch").</summary>
    public OnnxModelBuilder Input(string name, OnnxDataType type, params OnnxDim[] shape)
    {
        _inputs.Add(new ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>A graph output; dimensions are numbers (fixed) or names (symbolic).</summary>
    public OnnxModelBuilder Output(string name, OnnxDataType type, params OnnxDim[] shape)
    {
        _outputs.Add(new ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>A constant weight the nodes can read by name.</summary>
    public OnnxModelBuilder Initializer(OnnxTensor tensor)
    {
        _initializers.Add(tensor);
        return this;
    }

    /// <summary>A node; <paramref name="name"/> defaults to the operator and its position.</summary>
    public OnnxModelBuilder Node(
        string opType,
        IReadOnlyList<string> inputs,
        IReadOnlyList<string> outputs,
        IReadOnlyList<OnnxAttribute>? attributes = null,
        string? name = null,
        string domain = "")
    {
        _nodes.Add(new NodeSpec(opType, inputs, outputs, attributes ?? [], name ?? $"{opType}_{_nodes.Count}", domain));
        return this;
    }

    /// <summary>The serialized ModelProto.</summary>
    public byte[] Build()
    {
        return Message(model =>
        {
            WriteInt64(model, ModelField.IrVersion, _irVersion);
            WriteString(model, ModelField.ProducerName, "WebConsole");
            WriteMessage(model, ModelField.Graph, WriteGraph);
            foreach (var (domain, version) in _opsets)
            {
                WriteMessage(model, ModelField.OpsetImport, opset =>
                {
                    WriteString(opset, OpsetDomain, domain);
                    WriteInt64(opset, OpsetVersion, version);
                });
            }
        });
    }

    internal void WriteGraph(CodedOutputStream graph)
    {
        foreach (var node in _nodes)
        {
            WriteMessage(graph, GraphField.Node, node.WriteTo);
        }

        WriteString(graph, GraphField.Name, _graphName);
        foreach (var tensor in _initializers)
        {
            WriteMessage(graph, GraphField.Initializer, tensor.WriteTo);
        }

        foreach (var input in _inputs)
        {
            WriteMessage(graph, GraphField.Input, input.WriteTo);
        }

        foreach (var output in _outputs)
        {
            WriteMessage(graph, GraphField.Output, output.WriteTo);
        }
    }

    internal static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var stream = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(stream);
        }

        return buffer.ToArray();
    }

    internal static void WriteMessage(CodedOutputStream stream, int field, Action<CodedOutputStream> write)
    {
        stream.WriteTag(field, WireFormat.WireType.LengthDelimited);
        stream.WriteBytes(ByteString.CopyFrom(Message(write)));
    }

    internal static void WriteString(CodedOutputStream stream, int field, string value)
    {
        stream.WriteTag(field, WireFormat.WireType.LengthDelimited);
        stream.WriteString(value);
    }

    internal static void WriteInt64(CodedOutputStream stream, int field, long value)
    {
        stream.WriteTag(field, WireFormat.WireType.Varint);
        stream.WriteInt64(value);
    }

    internal static void WriteFloat(CodedOutputStream stream, int field, float value)
    {
        stream.WriteTag(field, WireFormat.WireType.Fixed32);
        stream.WriteFloat(value);
    }

    private sealed record ValueInfo(string Name, OnnxDataType Type, IReadOnlyList<OnnxDim> Shape)
    {
        public void WriteTo(CodedOutputStream valueInfo)
        {
            WriteString(valueInfo, ValueInfoField.Name, Name);
            WriteMessage(valueInfo, ValueInfoField.Type, type =>
                WriteMessage(type, TypeProtoTensorType, tensor =>
                {
                    WriteInt64(tensor, TensorTypeElemType, (long)Type);
                    WriteMessage(tensor, TensorTypeShape, shape =>
                    {
                        foreach (var dim in Shape)
                        {
                            WriteMessage(shape, ShapeDim, dimension =>
                            {
                                if (dim.Symbol is { } symbol)
                                {
                                    WriteString(dimension, DimParam, symbol);
                                }
                                else
                                {
                                    WriteInt64(dimension, DimValue, dim.Value);
                                }
                            });
                        }
                    });
                }));
        }
    }

    private sealed record NodeSpec(
        string OpType,
        IReadOnlyList<string> Inputs,
        IReadOnlyList<string> Outputs,
        IReadOnlyList<OnnxAttribute> Attributes,
        string Name,
        string Domain)
    {
        public void WriteTo(CodedOutputStream node)
        {
            foreach (var input in Inputs)
            {
                WriteString(node, NodeField.Input, input);
            }

            foreach (var output in Outputs)
            {
                WriteString(node, NodeField.Output, output);
            }

            WriteString(node, NodeField.Name, Name);
            WriteString(node, NodeField.OpType, OpType);
            foreach (var attribute in Attributes)
            {
                WriteMessage(node, NodeField.Attribute, attribute.WriteTo);
            }

            if (Domain.Length > 0)
            {
                WriteString(node, NodeField.Domain, Domain);
            }
        }
    }
}

/// <summary>One dimension of a value's shape: a fixed size or a symbolic name such as "batch" or "sequence".</summary>
public readonly record struct OnnxDim(long Value, string? Symbol)
{
    /// <summary>A fixed dimension.</summary>
    public static implicit operator OnnxDim(long value) => new(value, null);

    /// <summary>A symbolic dimension.</summary>
    public static implicit operator OnnxDim(string symbol) => new(0, symbol);

    /// <summary>The dimension as written.</summary>
    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>TensorProto.DataType values.</summary>
public enum OnnxDataType
{
    /// <summary>float32.</summary>
    Float = 1,
    /// <summary>uint8.</summary>
    UInt8 = 2,
    /// <summary>int8.</summary>
    Int8 = 3,
    /// <summary>int32.</summary>
    Int32 = 6,
    /// <summary>int64.</summary>
    Int64 = 7,
    /// <summary>string.</summary>
    String = 8,
    /// <summary>bool.</summary>
    Bool = 9,
    /// <summary>float16.</summary>
    Float16 = 10,
    /// <summary>float64.</summary>
    Double = 11,
}
