namespace WebConsole.Infrastructure.Text;

/// <summary>An ICU call reported a failure (a <c>UErrorCode</c> above zero).</summary>
public sealed class IcuException : Exception
{
    public IcuException()
        : this("ICU call failed.")
    {
    }

    public IcuException(string message)
        : base(message)
    {
        ErrorName = string.Empty;
    }

    public IcuException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorName = string.Empty;
    }

    public IcuException(string operation, int errorCode, string errorName)
        : base($"ICU {operation} failed: {errorName} ({errorCode}).")
    {
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>The <c>UErrorCode</c> value, for example 1 for <c>U_ILLEGAL_ARGUMENT_ERROR</c>.</summary>
    public int ErrorCode { get; }

    /// <summary>ICU's name for <see cref="ErrorCode"/> (<c>u_errorName</c>).</summary>
    public string ErrorName { get; }
}
