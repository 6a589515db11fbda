using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.RateLimiting;

/// <summary><c>/api/rate-limits</c>: validation, who may change what, tenant isolation and the audit trail.</summary>
public sealed partial class RateLimitTests
{
    [Fact]
    public async Task Invalid_policies_are_400s_naming_each_field()
    {
        using var admin = fixture.Client();
        using var response = await admin.PutAsJsonAsync("/api/rate-limits", new
        {
            scope = "planet", model_selector = "everything", requests_per_minute = 0, tokens_per_minute_search = -5,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        using var json = JsonDocument.Parse(body);
        var fields = json.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToList();
        Assert.Equal(["model_selector", "requests_per_minute", "scope", "tokens_per_minute_search"], fields.Order());

        using var unknownTeam = await admin.PutAsJsonAsync("/api/rate-limits", new
        {
            scope = "team", scope_id = Guid.NewGuid(), model_selector = "family:rerank", requests_per_minute = 5,
        });
        Assert.Equal(HttpStatusCode.NotFound, unknownTeam.StatusCode);

        using var missingTarget = await admin.PutAsJsonAsync("/api/rate-limits", new { scope = "api_key", model_selector = "family:rerank" });
        Assert.Equal(HttpStatusCode.BadRequest, missingTarget.StatusCode);
        Assert.Contains("scope_id", await missingTarget.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Global_defaults_are_changed_by_operators_only_and_never_deleted_and_other_organizations_see_only_their_own()
    {
        using var operatorClient = fixture.Client();
        var listed = await operatorClient.GetFromJsonAsync<JsonElement>("/api/rate-limits");
        var defaults = listed.EnumerateArray().Where(p => p.GetProperty("scope").GetString() == "global").ToList();
        Assert.Contains(defaults, p => p.GetProperty("model_selector").GetString() == "family:text_embedding"
            && p.GetProperty("requests_per_minute").GetInt32() == 6000
            && p.GetProperty("tokens_per_minute_ingest").GetInt64() == 6_000_000
            && p.GetProperty("tokens_per_minute_search").GetInt64() == 600_000);
        Assert.Contains(defaults, p => p.GetProperty("model_selector").GetString() == "family:chat_completion"
            && p.GetProperty("requests_per_minute").GetInt32() == 2000
            && p.GetProperty("tokens_per_minute_search").ValueKind == JsonValueKind.Null);

        var global = await RateLimitServer.SetPolicyAsync(operatorClient, new { scope = "global", model_selector = "model:rl-admin-model", requests_per_minute = 4 });
        var globalId = global.GetProperty("id").GetGuid();
        Assert.Equal(JsonValueKind.Null, global.GetProperty("scope_id").ValueKind);
        using (var deleted = await operatorClient.DeleteAsync($"/api/rate-limits/{globalId}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, deleted.StatusCode);
            Assert.Contains("Change its limits instead", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var organizationPolicy = await RateLimitServer.SetPolicyAsync(operatorClient, new { scope = "organization", model_selector = "model:rl-admin-model", requests_per_minute = 8 });
        var me = await operatorClient.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.Equal(me.GetProperty("organization_id").GetGuid().ToString(), organizationPolicy.GetProperty("scope_id").GetString());

        // An admin of another organization sees the defaults but not this organization's policies, and cannot touch them.
        var otherKey = await OtherOrganizations.CreateAdminKeyAsync(fixture.Server, operatorClient, "rl-other");
        using var other = fixture.Client(otherKey);
        var seen = await other.GetFromJsonAsync<JsonElement>("/api/rate-limits");
        Assert.Contains(seen.EnumerateArray(), p => p.GetProperty("id").GetGuid() == globalId);
        Assert.DoesNotContain(seen.EnumerateArray(), p => p.GetProperty("id").GetGuid() == organizationPolicy.GetProperty("id").GetGuid());
        using (var foreignDelete = await other.DeleteAsync($"/api/rate-limits/{organizationPolicy.GetProperty("id").GetGuid()}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignDelete.StatusCode);
        }

        using (var foreignTeam = await other.PutAsJsonAsync("/api/rate-limits", new
        {
            scope = "team", scope_id = me.GetProperty("team_id").GetString(), model_selector = "family:rerank", requests_per_minute = 1,
        }))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreignTeam.StatusCode);
        }

        using (var foreignGlobal = await other.PutAsJsonAsync("/api/rate-limits", new { scope = "global", model_selector = "family:rerank", requests_per_minute = 1 }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, foreignGlobal.StatusCode);
        }

        // A monitor-only key reads the policies but changes nothing.
        using var createdUser = await operatorClient.PostAsJsonAsync("/_security/api_key", new { name = "rl-reader", metadata = new { role = "inference_user" } });
        var reader = JsonDocument.Parse(await createdUser.Content.ReadAsStringAsync()).RootElement.GetProperty("encoded").GetString()!;
        using var readerClient = fixture.Client(reader);
        Assert.Equal(HttpStatusCode.OK, (await readerClient.GetAsync("/api/rate-limits")).StatusCode);
        using (var refused = await readerClient.PutAsJsonAsync("/api/rate-limits", new { scope = "organization", model_selector = "family:rerank", requests_per_minute = 1 }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // Every change left an audit row.
        var audit = await operatorClient.GetFromJsonAsync<JsonElement>("/api/audit?resource_type=rate_limit_policy&page_size=200");
        var actions = audit.GetProperty("entries").EnumerateArray()
            .Where(e => e.GetProperty("resource_id").GetString() is { } id && (id == globalId.ToString() || id == organizationPolicy.GetProperty("id").GetString()))
            .Select(e => e.GetProperty("action").GetString())
            .ToList();
        Assert.Equal(2, actions.Count(a => a == "rate_limit.create"));
    }
}
