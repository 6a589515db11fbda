using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace WebConsole.Infrastructure.Secrets;

/// <summary>
/// <see cref="ISecretProtector"/> on ASP.NET Core Data Protection. The key ring is the application's (persisted under the
/// data directory by the composition root), so protected values survive restarts; key rotation keeps old keys for reading.
/// </summary>
public sealed class DataProtectionSecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    private readonly IDataProtectionProvider _provider = provider;

    /// <inheritdoc />
    public string Protect(string plaintext, string purpose)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        return _provider.CreateProtector(RequirePurpose(purpose)).Protect(plaintext);
    }

    /// <inheritdoc />
    public string Unprotect(string protectedText, string purpose)
    {
        ArgumentNullException.ThrowIfNull(protectedText);
        try
        {
            return _provider.CreateProtector(RequirePurpose(purpose)).Unprotect(protectedText);
        }
        catch (FormatException ex)
        {
            // Not base64 at all: report it as the same failure as a tampered value, so callers handle one exception.
            throw new CryptographicException("The protected value is malformed.", ex);
        }
    }

    private static string RequirePurpose(string purpose) =>
        string.IsNullOrWhiteSpace(purpose) ? throw new ArgumentException("A purpose is required.", nameof(purpose)) : purpose;
}
