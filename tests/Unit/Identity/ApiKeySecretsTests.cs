using System.Text;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Unit.Identity;

public sealed class ApiKeySecretsTests
{
    [Fact]
    public void Ids_are_twenty_url_safe_characters_and_secrets_carry_256_random_bits()
    {
        var ids = Enumerable.Range(0, 50).Select(_ => ApiKeySecrets.NewId()).ToList();
        Assert.All(ids, id => Assert.Matches("^[A-Za-z0-9_-]{20}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var secret = ApiKeySecrets.NewSecret();
        Assert.Matches("^[A-Za-z0-9_-]{43}$", secret);
        Assert.NotEqual(secret, ApiKeySecrets.NewSecret());
    }

    [Fact]
    public void The_stored_hash_is_sha256_and_never_the_secret()
    {
        const string secret = "a-secret-of-at-least-thirty-two-characters";
        var hash = ApiKeySecrets.Hash(secret);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(secret))), hash);
        Assert.DoesNotContain(secret, hash, StringComparison.Ordinal);
        Assert.True(ApiKeySecrets.Verify(secret, hash));
        Assert.False(ApiKeySecrets.Verify(secret + "x", hash));
        Assert.False(ApiKeySecrets.Verify(secret, "sha256:00"));
    }

    [Theory]
    [InlineData("ApiKey")]
    [InlineData("apikey")]
    [InlineData("Bearer")]
    [InlineData("bearer")]
    public void Both_header_forms_parse_to_id_and_secret(string scheme)
    {
        var encoded = ApiKeySecrets.Encode("bootstrap", "s3cr:et");
        Assert.Equal(ApiKeyHeaderStatus.Parsed, ApiKeySecrets.TryParseAuthorization($"{scheme} {encoded}", out var id, out var secret));
        Assert.Equal("bootstrap", id);
        Assert.Equal("s3cr:et", secret);
    }

    [Fact]
    public void Base64url_credentials_are_accepted_too()
    {
        var url = Convert.ToBase64String(Encoding.UTF8.GetBytes("id1:sec>?ret")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(ApiKeyHeaderStatus.Parsed, ApiKeySecrets.TryParseAuthorization("ApiKey " + url, out var id, out var secret));
        Assert.Equal(("id1", "sec>?ret"), (id, secret));
    }

    [Theory]
    [InlineData("ApiKey")]
    [InlineData("ApiKey ")]
    [InlineData("ApiKey not-base64!!")]
    [InlineData("Bearer Zm9v")] // "foo": no colon
    [InlineData("ApiKey OmZvbw==")] // ":foo": no id
    [InlineData("ApiKey Zm9vOg==")] // "foo:": no secret
    public void Malformed_credentials_are_reported_as_malformed(string header) =>
        Assert.Equal(ApiKeyHeaderStatus.Malformed, ApiKeySecrets.TryParseAuthorization(header, out _, out _));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public void Other_schemes_are_not_api_keys(string? header) =>
        Assert.Equal(ApiKeyHeaderStatus.Absent, ApiKeySecrets.TryParseAuthorization(header, out _, out _));
}
