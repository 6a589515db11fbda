namespace WebConsole.Infrastructure.Secrets;

/// <summary>
/// Encrypts secrets kept at rest (provider API keys in service settings). A value protected under one purpose can be
/// read only under the same purpose, so a blob copied from one column into another does not decrypt there.
/// </summary>
public interface ISecretProtector
{
    /// <summary>Encrypts <paramref name="plaintext"/> under <paramref name="purpose"/>; the result is URL-safe base64.</summary>
    string Protect(string plaintext, string purpose);

    /// <summary>
    /// Decrypts a value <see cref="Protect"/> produced under the same purpose; throws
    /// <see cref="System.Security.Cryptography.CryptographicException"/> for another purpose, a tampered value or a lost key.
    /// </summary>
    string Unprotect(string protectedText, string purpose);
}

/// <summary>The purpose strings in use; a new use gets a new string, a changed format a new version suffix.</summary>
public static class SecretPurposes
{
    /// <summary>Secret service settings of inference endpoints (<c>InferenceEndpoint.SecretSettings</c>).</summary>
    public const string ServiceSettings = "WebConsole.ServiceSettings.v1";
}
