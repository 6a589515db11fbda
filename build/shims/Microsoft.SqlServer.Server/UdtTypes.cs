// Stand-in for the Microsoft.SqlServer.Server package, which this registry lacks (see the SqlServer project file).
// These are the four SQL CLR user-defined-type contracts Microsoft.Data.SqlClient refers to; WebConsole uses no UDTs.
namespace Microsoft.SqlServer.Server;

/// <summary>Serialization format of a user-defined type.</summary>
public enum Format
{
    /// <summary>Unknown format.</summary>
    Unknown = 0,
    /// <summary>Native serialization.</summary>
    Native = 1,
    /// <summary>User-defined serialization through <see cref="IBinarySerialize"/>.</summary>
    UserDefined = 2,
}

/// <summary>Custom binary serialization of a user-defined type.</summary>
public interface IBinarySerialize
{
    /// <summary>Reads the value.</summary>
    void Read(System.IO.BinaryReader r);

    /// <summary>Writes the value.</summary>
    void Write(System.IO.BinaryWriter w);
}

/// <summary>Thrown when a user-defined type is invalid.</summary>
public sealed class InvalidUdtException : System.SystemException
{
    /// <summary>Creates the exception.</summary>
    public InvalidUdtException() { }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidUdtException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public InvalidUdtException(string message, System.Exception innerException) : base(message, innerException) { }
}

/// <summary>Marks a type as a SQL Server user-defined type.</summary>
[System.AttributeUsage(System.AttributeTargets.Class | System.AttributeTargets.Struct, AllowMultiple = false, Inherited = true)]
public sealed class SqlUserDefinedTypeAttribute : System.Attribute
{
    /// <summary>Creates the attribute.</summary>
    public SqlUserDefinedTypeAttribute(Format format) => Format = format;

    /// <summary>The serialization format.</summary>
    public Format Format { get; }

    /// <summary>Whether instances compare by their bytes.</summary>
    public bool IsByteOrdered { get; set; }

    /// <summary>Whether all instances have the same length.</summary>
    public bool IsFixedLength { get; set; }

    /// <summary>Maximum serialized size in bytes.</summary>
    public int MaxByteSize { get; set; }

    /// <summary>The type's SQL name.</summary>
    public string? Name { get; set; }

    /// <summary>Validation method name.</summary>
    public string? ValidationMethodName { get; set; }
}
