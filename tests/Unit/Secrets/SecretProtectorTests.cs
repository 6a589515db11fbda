using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using WebConsole.Domain;
using WebConsole.Infrastructure.Secrets;

namespace WebConsole.Unit.Secrets;

public sealed class SecretProtectorTests : IDisposable
{
    private const string Secret = "sk-live-7f3c9a1b2d4e5f60718293a4b5c6d7e8";

    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("webconsole-keys-");

    public void Dispose() => _keys.Delete(recursive: true);

    // The same set-up as the composition root: application name WebConsole, key ring in a folder.
    private DataProtectionSecretProtector CreateProtector() =>
        new(DataProtectionProvider.Create(_keys, builder => builder.SetApplicationName("WebConsole")));

    [Fact]
    public void A_protected_secret_round_trips_under_its_purpose()
    {
        var protector = CreateProtector();

        var protectedText = protector.Protect(Secret, SecretPurposes.ServiceSettings);

        Assert.Equal(Secret, protector.Unprotect(protectedText, SecretPurposes.ServiceSettings));
    }

    [Fact]
    public void A_protected_secret_does_not_decrypt_under_another_purpose()
    {
        var protector = CreateProtector();
        var protectedText = protector.Protect(Secret, SecretPurposes.ServiceSettings);

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(protectedText, "WebConsole.Other.v1"));
    }

    [Fact]
    public void A_tampered_or_malformed_value_fails_as_a_cryptographic_error()
    {
        var protector = CreateProtector();
        var protectedText = protector.Protect(Secret, SecretPurposes.ServiceSettings);
        var tampered = protectedText[..^4] + (protectedText[^4] == 'A' ? "B" : "A") + protectedText[^3..];

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(tampered, SecretPurposes.ServiceSettings));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect("not base64 !", SecretPurposes.ServiceSettings));
    }

    [Fact]
    public void A_protected_value_contains_neither_the_plaintext_nor_its_base64()
    {
        var protector = CreateProtector();

        var protectedText = protector.Protect(Secret, SecretPurposes.ServiceSettings);

        Assert.DoesNotContain(Secret, protectedText, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-live", protectedText, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret))[..20], protectedText, StringComparison.Ordinal);
        // Two protections of one secret differ (random IV), so equal ciphertexts reveal nothing about equal secrets.
        Assert.NotEqual(protectedText, protector.Protect(Secret, SecretPurposes.ServiceSettings));
    }

    [Fact]
    public void A_new_provider_on_the_same_key_ring_reads_what_the_old_one_wrote()
    {
        var protectedText = CreateProtector().Protect(Secret, SecretPurposes.ServiceSettings);

        // A restart: a fresh provider that only shares the key folder and the application name.
        Assert.Equal(Secret, CreateProtector().Unprotect(protectedText, SecretPurposes.ServiceSettings));
    }

    [Fact]
    public void Service_settings_split_keeps_secret_fields_only_in_the_protected_blob_and_merge_restores_them()
    {
        var secrets = new ServiceSettingsSecrets(CreateProtector());
        var settings = $$"""{"model_id":"text-embedding-3-small","api_key":"{{Secret}}","dimensions":512}""";

        var split = secrets.Split(settings, ["api_key", "organization_id"]);

        Assert.DoesNotContain(Secret, split.ServiceSettings, StringComparison.Ordinal);
        var visible = JsonNode.Parse(split.ServiceSettings)!.AsObject();
        Assert.Equal(["model_id", "dimensions"], visible.Select(p => p.Key));
        Assert.NotNull(split.SecretSettings);
        Assert.DoesNotContain(Secret, split.SecretSettings, StringComparison.Ordinal);

        var merged = JsonNode.Parse(secrets.Merge(split.ServiceSettings, split.SecretSettings))!.AsObject();
        Assert.Equal(Secret, (string?)merged["api_key"]);
        Assert.Equal("text-embedding-3-small", (string?)merged["model_id"]);
        Assert.Equal(512, (int?)merged["dimensions"]);
        Assert.False(merged.ContainsKey("organization_id"));
    }

    [Fact]
    public void Service_settings_without_secret_fields_store_no_blob()
    {
        var secrets = new ServiceSettingsSecrets(CreateProtector());

        var split = secrets.Split("""{"model_id":".multilingual-e5-small"}""", ["api_key"]);

        Assert.Null(split.SecretSettings);
        Assert.Equal("""{"model_id":".multilingual-e5-small"}""", split.ServiceSettings);
        Assert.Equal(split.ServiceSettings, secrets.Merge(split.ServiceSettings, null));
    }

    [Fact]
    public void Service_settings_that_are_not_a_json_object_are_a_validation_error()
    {
        var secrets = new ServiceSettingsSecrets(CreateProtector());

        Assert.Throws<DomainValidationException>(() => secrets.Split("[1,2]", ["api_key"]));
        Assert.Throws<DomainValidationException>(() => secrets.Split("{not json", ["api_key"]));
    }
}
