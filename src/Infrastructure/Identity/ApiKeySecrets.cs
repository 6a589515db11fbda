using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace WebConsole.Infrastructure.Identity;

/// <summary>How an Authorization header parsed.</summary>
public enum ApiKeyHeaderStatus
{
    /// <summary>No header, or another scheme: not an API key request.</summary>
    Absent,

    /// <summary>The ApiKey or Bearer scheme with a credential that is not base64(<c>id:secret</c>).</summary>
    Malformed,

    /// <summary>An id and a secret.</summary>
    Parsed,
}

/// <summary>
/// Key ids, secrets and their hashes. Secrets are 256 random bits, so a fast hash (SHA-256) is enough: nothing can be
/// guessed, and a slow password hash would only cost CPU on every request.
/// </summary>
public static class ApiKeySecrets
{
    /// <summary>The <c>ApiKey</c> scheme of the Authorization header.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>The <c>Bearer</c> scheme (what OpenAI clients send).</summary>
    public const string BearerScheme = "Bearer";

    private const string HashPrefix = "sha256:";

    /// <summary>A new key id: 15 random bytes, base64url, 20 characters (Elasticsearch's id shape).</summary>
    public static string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(15));

    /// <summary>A new secret: 32 random bytes, base64url, 43 characters.</summary>
    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The stored form of a secret: <c>sha256:</c> and the lowercase hex digest.</summary>
    public static string Hash(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return HashPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    /// <summary>Whether a secret matches a stored hash, in time independent of where they differ.</summary>
    public static bool Verify(string secret, string storedHash)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(storedHash);
        var expected = Encoding.ASCII.GetBytes(storedHash);
        var actual = Encoding.ASCII.GetBytes(Hash(secret));
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>base64(<c>id:secret</c>): what clients send after <c>ApiKey </c> or <c>Bearer </c>.</summary>
    public static string Encode(string id, string secret) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{secret}"));

    /// <summary>
    /// Parses <c>ApiKey &lt;base64(id:secret)&gt;</c> or <c>Bearer &lt;base64(id:secret)&gt;</c> (scheme case-insensitive,
    /// base64 or base64url). Other schemes are <see cref="ApiKeyHeaderStatus.Absent"/>, so they can fall to other handlers.
    /// </summary>
    public static ApiKeyHeaderStatus TryParseAuthorization(string? header, out string id, out string secret)
    {
        id = string.Empty;
        secret = string.Empty;
        if (string.IsNullOrWhiteSpace(header))
        {
            return ApiKeyHeaderStatus.Absent;
        }

        var trimmed = header.Trim();
        var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? trimmed : trimmed[..space];
        if (!scheme.Equals(ApiKeyScheme, StringComparison.OrdinalIgnoreCase) && !scheme.Equals(BearerScheme, StringComparison.OrdinalIgnoreCase))
        {
            return ApiKeyHeaderStatus.Absent;
        }

        var credential = space < 0 ? string.Empty : trimmed[(space + 1)..].Trim();
        if (credential.Length == 0 || credential.Length > 1024 || !TryDecode(credential, out var decoded))
        {
            return ApiKeyHeaderStatus.Malformed;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == decoded.Length - 1)
        {
            return ApiKeyHeaderStatus.Malformed;
        }

        id = decoded[..colon];
        secret = decoded[(colon + 1)..];
        return ApiKeyHeaderStatus.Parsed;
    }

    private static bool TryDecode(string credential, out string decoded)
    {
        decoded = string.Empty;
        byte[] bytes;
        try
        {
            bytes = credential.Contains('-', StringComparison.Ordinal) || credential.Contains('_', StringComparison.Ordinal) || credential.Length % 4 != 0
                ? Base64Url.DecodeFromChars(credential.TrimEnd('='))
                : Convert.FromBase64String(credential);
        }
        catch (FormatException)
        {
            return false;
        }

        try
        {
            decoded = new UTF8Encoding(false, true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
