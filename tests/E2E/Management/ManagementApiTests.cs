using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using WebConsole.Infrastructure.Secrets;

namespace WebConsole.E2E.Management;

/// <summary>The management API on a real server: organizations, teams, members, the audit trail, tenant isolation.</summary>
public sealed class ManagementApiTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    private const string MemberPassword = "member-one-time-password-42";

    private static int s_sequence;

    // Each test gets its own organization, so tests in the class do not see each other's rows.
    private static string NewSlug(string stem) => $"{stem}-{Environment.ProcessId}-{Interlocked.Increment(ref s_sequence)}";

    private async Task<(JsonObject Created, HttpClient Admin, string AdminEmail, string AdminPassword)> CreateOrganizationWithAdminAsync(string stem)
    {
        var slug = NewSlug(stem);
        var adminEmail = $"admin@{slug}.example";
        var adminPassword = $"admin-password-{slug}";
        using var operatorClient = fixture.Operator();
        using var response = await operatorClient.PostAsJsonAsync("/api/organizations", new
        {
            name = $"Organization {slug}",
            slug,
            admin = new { email = adminEmail, display_name = "Org Admin", password = adminPassword },
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}\n{fixture.Server.Log}");
        var created = JsonNode.Parse(body)!.AsObject();
        var admin = await fixture.SignInAsync(adminEmail, adminPassword);
        return (created, admin, adminEmail, adminPassword);
    }

    private static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    [Fact]
    public async Task An_organization_team_and_member_created_through_the_api_are_each_audited_and_queryable_with_filters()
    {
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        var (created, admin, adminEmail, adminPassword) = await CreateOrganizationWithAdminAsync("audited");
        using var _ = admin;
        var organizationId = (string)created["organization"]!["id"]!;
        Assert.Equal("Default", (string?)created["default_team"]!["name"]);
        Assert.Equal(adminEmail, (string?)created["admin"]!["email"]);

        // The operator lists every organization; the organization's admin sees its own through /api/me.
        using (var operatorClient = fixture.Operator())
        {
            var organizations = (await ReadJsonAsync(await operatorClient.GetAsync(new Uri("/api/organizations", UriKind.Relative)), HttpStatusCode.OK)).AsArray();
            Assert.Contains(organizations, o => (string?)o!["id"] == organizationId);
            Assert.Contains(organizations, o => (string?)o!["slug"] == "default");
        }

        var me = await ReadJsonAsync(await admin.GetAsync(new Uri("/api/me", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(organizationId, (string?)me["organization_id"]);
        Assert.True((bool)me["organization_admin"]!);
        Assert.False((bool)me["platform_operator"]!);

        var team = await ReadJsonAsync(await admin.PostAsJsonAsync("/api/teams", new { name = "research" }), HttpStatusCode.Created);
        var teamId = (string)team["id"]!;
        Assert.Equal(organizationId, (string?)team["organization_id"]);

        var memberEmail = $"member@{organizationId}.example";
        var member = await ReadJsonAsync(
            await admin.PostAsJsonAsync($"/api/teams/{teamId}/members", new { email = memberEmail, role = "team_admin", password = MemberPassword }),
            HttpStatusCode.OK);
        Assert.Equal("team_admin", (string?)member["role"]);
        var members = (await ReadJsonAsync(await admin.GetAsync(new Uri($"/api/teams/{teamId}/members", UriKind.Relative)), HttpStatusCode.OK)).AsArray();
        Assert.Equal([memberEmail], members.Select(m => (string?)m!["email"]));

        // The new user signs in with the password the admin chose and belongs to the organization.
        using (var memberClient = await fixture.SignInAsync(memberEmail, MemberPassword))
        {
            var memberMe = await ReadJsonAsync(await memberClient.GetAsync(new Uri("/api/me", UriKind.Relative)), HttpStatusCode.OK);
            Assert.Equal(organizationId, (string?)memberMe["organization_id"]);
            Assert.False((bool)memberMe["organization_admin"]!);
        }

        using (var removed = await admin.DeleteAsync(new Uri($"/api/teams/{teamId}/members/{Uri.EscapeDataString(memberEmail)}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        Assert.Empty((await ReadJsonAsync(await admin.GetAsync(new Uri($"/api/teams/{teamId}/members", UriKind.Relative)), HttpStatusCode.OK)).AsArray());

        // Every action is in the organization's trail, with who, from where and with which client.
        var trail = await ReadJsonAsync(await admin.GetAsync(new Uri("/api/audit?page_size=100", UriKind.Relative)), HttpStatusCode.OK);
        var entries = trail["entries"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(entries.Count, (int)trail["total"]!);
        var actions = entries.Select(e => (string)e["action"]!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            ["organization.create", "organization_member.add", "team.create", "team.create", "team_member.add", "team_member.add", "team_member.remove", "user.create", "user.create"],
            actions);
        Assert.All(entries, e =>
        {
            Assert.Equal(organizationId, (string?)e["organization_id"]);
            Assert.Equal("127.0.0.1", (string?)e["remote_address"]);
            Assert.Equal(ManagementServerFixture.UserAgent, (string?)e["user_agent"]);
            Assert.True(DateTimeOffset.Parse((string)e["occurred_at"]!, System.Globalization.CultureInfo.InvariantCulture) >= started);
        });
        Assert.Equal("api_key:bootstrap", (string?)entries.Single(e => (string?)e["action"] == "organization.create")["actor"]);
        Assert.Equal("Org Admin", (string?)entries.Single(e => (string?)e["action"] == "team_member.remove")["actor"]);
        var occurred = entries.Select(e => DateTimeOffset.Parse((string)e["occurred_at"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(occurred.OrderDescending(), occurred);

        // Filters: action, actor, resource, time window, paging.
        async Task<JsonNode> QueryAsync(string query) =>
            await ReadJsonAsync(await admin.GetAsync(new Uri($"/api/audit?{query}", UriKind.Relative)), HttpStatusCode.OK);

        Assert.Equal(2, (int)(await QueryAsync("action=team.create"))["total"]!);
        Assert.Equal(3, (int)(await QueryAsync("action=team_member.*"))["total"]!);
        Assert.Equal(5, (int)(await QueryAsync("actor=api_key:bootstrap"))["total"]!);
        Assert.Equal(4, (int)(await QueryAsync("actor=Org Admin"))["total"]!);
        var byResource = await QueryAsync($"resource_type=team&resource_id={teamId}");
        Assert.Equal(["team.create", "team_member.add", "team_member.remove"],
            byResource["entries"]!.AsArray().Select(e => (string)e!["action"]!).Order(StringComparer.Ordinal));
        Assert.Equal(0, (int)(await QueryAsync($"from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}"))["total"]!);
        Assert.Equal(entries.Count, (int)(await QueryAsync($"from={Uri.EscapeDataString(started.ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}"))["total"]!);
        var second = await QueryAsync("page=2&page_size=2");
        Assert.Equal(entries.Count, (int)second["total"]!);
        Assert.Equal(entries.Skip(2).Take(2).Select(e => (string?)e["id"]), second["entries"]!.AsArray().Select(e => (string?)e!["id"]));

        // The operator reads any organization's trail; the admin cannot read the default organization's.
        using (var operatorClient = fixture.Operator())
        {
            var seen = await ReadJsonAsync(
                await operatorClient.GetAsync(new Uri($"/api/audit?organization_id={organizationId}&page_size=100", UriKind.Relative)), HttpStatusCode.OK);
            Assert.Equal(entries.Count, (int)seen["total"]!);
            var me2 = await ReadJsonAsync(await operatorClient.GetAsync(new Uri("/api/me", UriKind.Relative)), HttpStatusCode.OK);
            var defaultOrganization = (string)me2["organization_id"]!;
            var foreign = await ReadJsonAsync(
                await admin.GetAsync(new Uri($"/api/audit?organization_id={defaultOrganization}", UriKind.Relative)), HttpStatusCode.OK);
            Assert.Equal(0, (int)foreign["total"]!);
        }

        // Neither the trail, nor the database file, nor the log holds a password or the bootstrap secret.
        var everything = trail.ToJsonString();
        Assert.DoesNotContain(MemberPassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(adminPassword, everything, StringComparison.Ordinal);
        var databasePath = Path.Combine(fixture.Server.DataDirectory, "webconsole.db");
        var database = await ReadSharedAsync(databasePath) + (File.Exists(databasePath + "-wal") ? await ReadSharedAsync(databasePath + "-wal") : "");
        foreach (var secret in new[] { MemberPassword, adminPassword, ManagementServerFixture.BootstrapSecret, ManagementServerFixture.OperatorPassword })
        {
            Assert.DoesNotContain(secret, database, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, fixture.Server.Log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_caller_of_one_organization_gets_404_for_another_organizations_resources_and_nothing_changes()
    {
        var (created, admin, _, _) = await CreateOrganizationWithAdminAsync("isolated");
        using var _ = admin;
        var otherOrganization = (string)created["organization"]!["id"]!;
        var otherTeam = (string)created["default_team"]!["id"]!;

        using var operatorClient = fixture.Operator();
        var me = await ReadJsonAsync(await operatorClient.GetAsync(new Uri("/api/me", UriKind.Relative)), HttpStatusCode.OK);
        var defaultTeam = (string)me["team_id"]!;
        var defaultOrganization = (string)me["organization_id"]!;
        var membersBefore = (await ReadJsonAsync(await operatorClient.GetAsync(new Uri($"/api/teams/{defaultTeam}/members", UriKind.Relative)), HttpStatusCode.OK)).ToJsonString();
        var trailBefore = (int)(await ReadJsonAsync(await operatorClient.GetAsync(new Uri($"/api/audit?organization_id={defaultOrganization}", UriKind.Relative)), HttpStatusCode.OK))["total"]!;

        // The other organization's admin, on the default organization's team: exactly like a team that does not exist.
        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => admin.GetAsync(new Uri($"/api/teams/{defaultTeam}", UriKind.Relative)),
            () => admin.GetAsync(new Uri($"/api/teams/{defaultTeam}/members", UriKind.Relative)),
            () => admin.PostAsJsonAsync($"/api/teams/{defaultTeam}/members", new { email = "intruder@example.com", role = "team_admin", password = "intruder-password-123" }),
            () => admin.DeleteAsync(new Uri($"/api/teams/{defaultTeam}/members/{Uri.EscapeDataString(ManagementServerFixture.OperatorEmail)}", UriKind.Relative)),
            () => admin.GetAsync(new Uri($"/api/organizations/{defaultOrganization}", UriKind.Relative)),
            () => admin.GetAsync(new Uri($"/api/organizations/{defaultOrganization}/teams", UriKind.Relative)),
            () => admin.GetAsync(new Uri($"/api/teams/{Guid.NewGuid()}", UriKind.Relative)),
        })
        {
            using var response = await request();
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        // And the other way round: the default organization's key on the other organization's team.
        using (var response = await operatorClient.GetAsync(new Uri($"/api/teams/{otherTeam}/members", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var response = await operatorClient.PostAsJsonAsync($"/api/teams/{otherTeam}/members", new { email = ManagementServerFixture.OperatorEmail, role = "team_admin" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.DoesNotContain(
            (await ReadJsonAsync(await admin.GetAsync(new Uri($"/api/teams/{otherTeam}/members", UriKind.Relative)), HttpStatusCode.OK)).AsArray(),
            m => (string?)m!["email"] == ManagementServerFixture.OperatorEmail);
        Assert.Equal(membersBefore, (await ReadJsonAsync(await operatorClient.GetAsync(new Uri($"/api/teams/{defaultTeam}/members", UriKind.Relative)), HttpStatusCode.OK)).ToJsonString());
        Assert.Equal(trailBefore, (int)(await ReadJsonAsync(await operatorClient.GetAsync(new Uri($"/api/audit?organization_id={defaultOrganization}", UriKind.Relative)), HttpStatusCode.OK))["total"]!);

        // Organization admins are not operators: the installation-wide list is refused.
        using (var response = await admin.GetAsync(new Uri("/api/organizations", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.Equal(otherOrganization, (string?)(await ReadJsonAsync(await admin.GetAsync(new Uri($"/api/organizations/{otherOrganization}", UriKind.Relative)), HttpStatusCode.OK))["id"]);
    }

    [Fact]
    public async Task Validation_errors_are_problem_details_400_naming_the_fields()
    {
        using var operatorClient = fixture.Operator();

        var organization = await ProblemAsync(await operatorClient.PostAsJsonAsync("/api/organizations", new { name = "Bad", slug = "Not A Slug" }));
        Assert.Contains("slug", organization["detail"]!.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(organization["errors"]!.AsObject());

        var me = await ReadJsonAsync(await operatorClient.GetAsync(new Uri("/api/me", UriKind.Relative)), HttpStatusCode.OK);
        var team = (string)me["team_id"]!;
        var role = await ProblemAsync(await operatorClient.PostAsJsonAsync($"/api/teams/{team}/members", new { email = "someone@example.com", role = "owner" }));
        Assert.True(role["errors"]!.AsObject().ContainsKey("role"), role.ToJsonString());

        var email = await ProblemAsync(await operatorClient.PostAsJsonAsync($"/api/teams/{team}/members", new { email = "not-an-address", role = "member" }));
        Assert.True(email["errors"]!.AsObject().ContainsKey("request") || email["errors"]!.AsObject().ContainsKey("email"), email.ToJsonString());

        var shortPassword = await ProblemAsync(await operatorClient.PostAsJsonAsync($"/api/teams/{team}/members", new { email = "new@example.com", password = "short" }));
        Assert.True(shortPassword["errors"]!.AsObject().ContainsKey("password"), shortPassword.ToJsonString());

        var teamName = await ProblemAsync(await operatorClient.PostAsJsonAsync("/api/teams", new { name = "  " }));
        Assert.True(teamName["errors"]!.AsObject().ContainsKey("name"), teamName.ToJsonString());

        var audit = await ProblemAsync(await operatorClient.GetAsync(new Uri("/api/audit?from=yesterday&page_size=0", UriKind.Relative)));
        Assert.True(audit["errors"]!.AsObject().ContainsKey("from"), audit.ToJsonString());

        using var malformed = new StringContent("{\"name\":", Encoding.UTF8, "application/json");
        using var response = await operatorClient.PostAsync(new Uri("/api/teams", UriKind.Relative), malformed);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task An_encrypted_secret_and_a_session_still_decrypt_after_a_restart()
    {
        var (_, admin, _, _) = await CreateOrganizationWithAdminAsync("restart");
        using var _ = admin;

        // A provider secret protected with the installation's key ring (its folder and application name), stored where
        // the /_inference surface stores it.
        const string providerSecret = "sk-provider-secret-that-must-survive-restarts";
        var keys = new DirectoryInfo(Path.Combine(fixture.Server.DataDirectory, "keys"));
        var secrets = new ServiceSettingsSecrets(new DataProtectionSecretProtector(
            DataProtectionProvider.Create(keys, builder => builder.SetApplicationName("WebConsole"))));
        var split = secrets.Split(JsonSerializer.Serialize(new { model_id = "gpt-4o-mini", api_key = providerSecret }), ["api_key"]);
        Assert.DoesNotContain(providerSecret, split.SecretSettings!, StringComparison.Ordinal);
        var keyFiles = keys.GetFiles("key-*.xml").Select(f => f.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(keyFiles);

        await fixture.Server.RestartAsync();

        // The server reads what it protected before the restart: the portal session cookie still authenticates.
        using (var response = await admin.GetAsync(new Uri("/api/me", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // And the restarted installation's key ring (no new key was needed) opens the stored secret.
        Assert.Equal(keyFiles, keys.GetFiles("key-*.xml").Select(f => f.Name).Order(StringComparer.Ordinal));
        var reopened = new ServiceSettingsSecrets(new DataProtectionSecretProtector(
            DataProtectionProvider.Create(keys, builder => builder.SetApplicationName("WebConsole"))));
        Assert.Equal(providerSecret, (string?)JsonNode.Parse(reopened.Merge(split.ServiceSettings, split.SecretSettings))!["api_key"]);
    }

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(body)!.AsObject();
            Assert.Equal(400, (int)problem["status"]!);
            Assert.True(problem.ContainsKey("errors"), body);
            return problem;
        }
    }

    // The server holds the database open; read it without locking it out.
    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        return await reader.ReadToEndAsync();
    }
}
