using System.Text;
using Google.Protobuf;

namespace WebConsole.Inference.Onnx;

/// <summary>A node attribute (AttributeProto), e.g. <c>OnnxAttribute.Int("axis", -1)</c>.</summary>
public sealed class OnnxAttribute
{
    // onnx.proto AttributeProto field numbers and AttributeType values.
    private const int NameField = 1, FloatField = 2, IntField = 3, StringField = 4, TensorField = 5, GraphField = 6, FloatsField = 7, IntsField = 8, TypeField = 20;
    private const int TypeFloat = 1, TypeInt = 2, TypeString = 3, TypeTensor = 4, TypeGraph = 5, TypeFloats = 6, TypeInts = 7;

    private readonly Action<CodedOutputStream> _writeValue;
    private readonly int _type;

    private OnnxAttribute(string name, int type, Action<CodedOutputStream> writeValue)
    {
        Name = name;
        _type = type;
        _writeValue = writeValue;
    }

    /// <summary>The attribute name.</summary>
    public string Name { get; }

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) =>
        new(name, TypeFloat, a => OnnxModelBuilder.WriteFloat(a, FloatField, value));

    /// <summary>An int attribute.</summary>
    public static OnnxAttribute Int(string name, long value) =>
        new(name, TypeInt, a => OnnxModelBuilder.WriteInt64(a, IntField, value));

    /// <summary>A string attribute.</summary>
    public static OnnxAttribute String(string name, string value) =>
        new(name, TypeString, a =>
        {
            a.WriteTag(StringField, WireFormat.WireType.LengthDelimited);
            a.WriteBytes(ByteString.CopyFrom(value, Encoding.UTF8));
        });

    /// <summary>A tensor attribute.</summary>
    public static OnnxAttribute Tensor(string name, OnnxTensor value) =>
        new(name, TypeTensor, a => OnnxModelBuilder.WriteMessage(a, TensorField, value.WriteTo));

    /// <summary>A graph attribute: the body of a control-flow node such as Scan or Loop (outer-scope values are visible in it).</summary>
    public static OnnxAttribute Graph(string name, OnnxModelBuilder body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new(name, TypeGraph, a => OnnxModelBuilder.WriteMessage(a, GraphField, body.WriteGraph));
    }

    /// <summary>A floats attribute.</summary>
    public static OnnxAttribute Floats(string name, params float[] values) =>
        new(name, TypeFloats, a =>
        {
            foreach (var value in values)
            {
                OnnxModelBuilder.WriteFloat(a, FloatsField, value);
            }
        });

    /// <summary>An ints attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] values) =>
        new(name, TypeInts, a =>
        {
            foreach (var value in values)
            {
                OnnxModelBuilder.WriteInt64(a, IntsField, value);
            }
        });

    /// <summary>Writes the AttributeProto fields.</summary>
    public void WriteTo(CodedOutputStream attribute)
    {
        OnnxModelBuilder.WriteString(attribute, NameField, Name);
        _writeValue(attribute);
        OnnxModelBuilder.WriteInt64(attribute, TypeField, _type);
    }
}
