using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace WebConsole.E2E.Security;

public sealed class ApiKeyTests(SecurityServer fixture) : IClassFixture<SecurityServer>
{
    [Theory]
    [InlineData("ApiKey")]
    [InlineData("Bearer")]
    public async Task The_bootstrap_key_works_on_a_fresh_server(string scheme)
    {
        using var client = fixture.Bootstrap(scheme);
        using var response = await client.GetAsync("/_security/_authenticate");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("bootstrap", json.RootElement.GetProperty("api_key").GetProperty("id").GetString());
        Assert.Equal(["inference_admin"], json.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("Elasticsearch", response.Headers.GetValues("X-Elastic-Product").Single());
    }

    [Fact]
    public async Task Missing_and_malformed_credentials_are_401_in_the_elasticsearch_envelope()
    {
        using var anonymous = fixture.Client();
        using var missing = await anonymous.GetAsync("/_security/api_key");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Contains("ApiKey", missing.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        AssertEnvelope(await missing.Content.ReadAsStringAsync(), 401, "security_exception");

        using var malformed = fixture.Client("not base64 at all!");
        using var bad = await malformed.GetAsync("/_security/api_key");
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        AssertEnvelope(await bad.Content.ReadAsStringAsync(), 401, "security_exception");

        using var wrong = fixture.Client(SecurityServer.Encode("bootstrap", "wrong-secret-wrong-secret-wrong-secret"));
        using var refused = await wrong.GetAsync("/_security/_authenticate");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Created_keys_work_are_listed_without_secrets_and_can_be_invalidated()
    {
        var (id, encoded) = await fixture.CreateKeyAsync(new
        {
            name = "reader",
            expiration = "1d",
            role_descriptors = new { reader = new { cluster = new[] { "monitor_inference" } } },
        });

        using var reader = fixture.Client(encoded, "Bearer");
        using (var me = await reader.GetAsync("/_security/_authenticate"))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            using var json = JsonDocument.Parse(await me.Content.ReadAsStringAsync());
            Assert.Equal(["inference_user"], json.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        }

        // An inference_user may not create keys.
        using (var denied = await reader.PostAsJsonAsync("/_security/api_key", new { name = "escalate" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            AssertEnvelope(await denied.Content.ReadAsStringAsync(), 403, "security_exception");
        }

        using var admin = fixture.Bootstrap();
        using (var list = await admin.GetAsync($"/_security/api_key?id={id}"))
        {
            var text = await list.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            using var json = JsonDocument.Parse(text);
            var key = Assert.Single(json.RootElement.GetProperty("api_keys").EnumerateArray());
            Assert.Equal("reader", key.GetProperty("name").GetString());
            Assert.False(key.GetProperty("invalidated").GetBoolean());
            Assert.True(key.GetProperty("expiration").GetInt64() > key.GetProperty("creation").GetInt64());
            Assert.False(key.TryGetProperty("api_key", out _));
            Assert.DoesNotContain(fixture.Secrets[^1], text, StringComparison.Ordinal);
        }

        using (var invalidate = await DeleteAsync(admin, new { ids = new[] { id } }))
        {
            Assert.Equal(HttpStatusCode.OK, invalidate.StatusCode);
            using var json = JsonDocument.Parse(await invalidate.Content.ReadAsStringAsync());
            Assert.Equal([id], json.RootElement.GetProperty("invalidated_api_keys").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(0, json.RootElement.GetProperty("error_count").GetInt32());
        }

        using (var after = await reader.GetAsync("/_security/_authenticate"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }

        using var again = await DeleteAsync(admin, new { ids = new[] { id } });
        using var againJson = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal([id], againJson.RootElement.GetProperty("previously_invalidated_api_keys").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Another_organizations_key_answers_not_found_and_is_not_changed()
    {
        using var admin = fixture.Bootstrap();
        using (var get = await admin.GetAsync($"/_security/api_key?id={SecurityServer.OtherOrganizationKeyId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            AssertEnvelope(await get.Content.ReadAsStringAsync(), 404, "resource_not_found_exception");
        }

        using (var unknown = await admin.GetAsync("/_security/api_key?id=no-such-key"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var delete = await DeleteAsync(admin, new { ids = new[] { SecurityServer.OtherOrganizationKeyId } }))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }

        using (var list = await admin.GetAsync("/_security/api_key"))
        {
            Assert.DoesNotContain(SecurityServer.OtherOrganizationKeyId, await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using (var database = fixture.OpenDatabase())
        {
            var theirs = await database.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == SecurityServer.OtherOrganizationKeyId);
            Assert.Null(theirs.InvalidatedAt);
        }

        // Their key still works, and sees none of the default organization's keys.
        using var other = fixture.Client(SecurityServer.Encode(SecurityServer.OtherOrganizationKeyId, SecurityServer.OtherOrganizationSecret));
        using var mine = await other.GetAsync("/_security/api_key");
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        var text = await mine.Content.ReadAsStringAsync();
        Assert.Contains(SecurityServer.OtherOrganizationKeyId, text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"bootstrap\"", text, StringComparison.Ordinal);
        using var cross = await DeleteAsync(other, new { ids = new[] { "bootstrap" } });
        Assert.Equal(HttpStatusCode.NotFound, cross.StatusCode);
        using var stillWorks = await fixture.Bootstrap().GetAsync("/_security/_authenticate");
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task Key_actions_are_audited_and_no_secret_is_stored_or_logged_in_plain_text()
    {
        var (id, _) = await fixture.CreateKeyAsync(new { name = "audited", metadata = new { role = "inference_user" } });
        using (var admin = fixture.Bootstrap())
        using (var revoke = await DeleteAsync(admin, new { ids = new[] { id } }))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        await using (var database = fixture.OpenDatabase())
        {
            var actions = await database.AuditEntries.Where(a => a.ResourceId == id).Select(a => a.Action).ToListAsync();
            Assert.Contains("api_key.create", actions);
            Assert.Contains("api_key.invalidate", actions);
        }

        // Stopping the server flushes SQLite's write-ahead log into the file, so the whole database is on disk.
        await fixture.Server.StopAsync();
        var files = Directory.GetFiles(fixture.Server.DataDirectory, "webconsole.db*");
        Assert.NotEmpty(files);
        var stored = string.Concat(files.Select(f => Encoding.Latin1.GetString(File.ReadAllBytes(f))));
        List<string> secrets;
        lock (fixture.Secrets)
        {
            secrets = [.. fixture.Secrets];
        }

        Assert.True(secrets.Count >= 3);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, fixture.Server.Log, StringComparison.Ordinal);
        }

        await fixture.Server.RestartAsync();
    }

    private static Task<HttpResponseMessage> DeleteAsync(HttpClient client, object body) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/_security/api_key")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        });

    private static void AssertEnvelope(string body, int status, string type)
    {
        using var json = JsonDocument.Parse(body);
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(type, error.GetProperty("root_cause")[0].GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("reason").GetString()));
    }
}
