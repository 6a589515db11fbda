using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace WebConsole.Web.Apis;

/// <summary>
/// Reads request bodies for the JSON parsers. System.Text.Json checks UTF-8 inside strings only when a string is read,
/// which would turn invalid bytes into a server error deep in a handler; reading the body here checks it whole first.
/// </summary>
internal static class JsonBodies
{
    /// <summary>
    /// The body's bytes, checked to be UTF-8; invalid bytes are a <see cref="JsonException"/> naming their offset, which the
    /// callers answer as a parse error. The server's body size limit still applies while reading.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> ReadUtf8Async(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var read = await body.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
        }

        var bytes = buffer.WrittenMemory;
        if (!Utf8.IsValid(bytes.Span))
        {
            throw new JsonException($"the request body is not valid UTF-8 (first invalid byte at offset {FirstInvalid(bytes.Span)})");
        }

        return bytes;
    }

    private static int FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        var status = Utf8.ToUtf16(bytes, new char[bytes.Length], out var read, out _, replaceInvalidSequences: false);
        return status == OperationStatus.InvalidData ? read : bytes.Length;
    }
}
