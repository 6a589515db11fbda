using System.Runtime.InteropServices;
using Google.Protobuf;

namespace WebConsole.Inference.Onnx;

/// <summary>A TensorProto: an initializer or a tensor attribute (e.g. of a Constant node).</summary>
public sealed class OnnxTensor
{
    // onnx.proto TensorProto field numbers.
    private const int DimsField = 1, DataTypeField = 2, FloatDataField = 4, Int64DataField = 7, NameField = 8, RawDataField = 9;

    private readonly float[]? _floats;
    private readonly long[]? _longs;
    private readonly byte[]? _raw;

    private OnnxTensor(string name, OnnxDataType dataType, long[] dims, float[]? floats, long[]? longs, byte[]? raw)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        _floats = floats;
        _longs = longs;
        _raw = raw;
    }

    /// <summary>The initializer name.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public OnnxDataType DataType { get; }

    /// <summary>The dimensions.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>float32 values, written as packed float_data.</summary>
    public static OnnxTensor Floats(string name, long[] dims, float[] values) =>
        new(name, OnnxDataType.Float, dims, CheckCount(name, dims, values), null, null);

    /// <summary>int64 values, written as packed int64_data.</summary>
    public static OnnxTensor Int64s(string name, long[] dims, long[] values) =>
        new(name, OnnxDataType.Int64, dims, null, CheckCount(name, dims, values), null);

    /// <summary>float32 values as little-endian raw_data, as exporters write large weights.</summary>
    public static OnnxTensor RawFloats(string name, long[] dims, float[] values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("raw_data is little-endian.");
        }

        var bytes = MemoryMarshal.AsBytes(CheckCount(name, dims, values).AsSpan()).ToArray();
        return new(name, OnnxDataType.Float, dims, null, null, bytes);
    }

    /// <summary>Any element type from little-endian bytes.</summary>
    public static OnnxTensor Raw(string name, OnnxDataType dataType, long[] dims, byte[] littleEndianBytes) =>
        new(name, dataType, dims, null, null, littleEndianBytes);

    private static T[] CheckCount<T>(string name, long[] dims, T[] values)
    {
        var count = dims.Aggregate(1L, (product, dim) => product * dim);
        return values.LongLength == count
            ? values
            : throw new ArgumentException($"Tensor '{name}' of shape [{string.Join(", ", dims)}] needs {count} values, not {values.LongLength}.");
    }

    /// <summary>Writes the TensorProto fields.</summary>
    public void WriteTo(CodedOutputStream tensor)
    {
        // dims is not declared packed in onnx.proto; write it the way the reference serializer does.
        foreach (var dim in Dims)
        {
            OnnxModelBuilder.WriteInt64(tensor, DimsField, dim);
        }

        OnnxModelBuilder.WriteInt64(tensor, DataTypeField, (long)DataType);
        if (_floats is { } floats)
        {
            tensor.WriteTag(FloatDataField, WireFormat.WireType.LengthDelimited);
            tensor.WriteLength(floats.Length * sizeof(float));
            foreach (var value in floats)
            {
                tensor.WriteFloat(value);
            }
        }

        if (_longs is { } longs)
        {
            var packed = OnnxModelBuilder.Message(values =>
            {
                foreach (var value in longs)
                {
                    values.WriteInt64(value);
                }
            });
            tensor.WriteTag(Int64DataField, WireFormat.WireType.LengthDelimited);
            tensor.WriteBytes(ByteString.CopyFrom(packed));
        }

        OnnxModelBuilder.WriteString(tensor, NameField, Name);
        if (_raw is { } raw)
        {
            tensor.WriteTag(RawDataField, WireFormat.WireType.LengthDelimited);
            tensor.WriteBytes(ByteString.CopyFrom(raw));
        }
    }
}
