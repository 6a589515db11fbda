using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Tenancy;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;

namespace WebConsole.E2E.Security;

/// <summary>
/// A fresh server with the bootstrap key, plus a second organization written straight into its database (there is no
/// other way yet to make one), whose key the tests use to prove isolation. Records every secret it sees, so the last
/// test can look for them in the database file and the log.
/// </summary>
public sealed class SecurityServer : IAsyncLifetime
{
    public const string BootstrapSecret = "security-e2e-bootstrap-secret-0123456789";

    public const string OtherOrganizationKeyId = "other-org-key";

    public static readonly string OtherOrganizationSecret = ApiKeySecrets.NewSecret();

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>Every secret handed out during the run (bootstrap, created keys, the other organization's).</summary>
    public List<string> Secrets { get; } = [BootstrapSecret, OtherOrganizationSecret];

    public async Task InitializeAsync()
    {
        _server = await WebConsoleServer.StartAsync(new Dictionary<string, string?>
        {
            ["WebConsole:Bootstrap:ApiKey"] = BootstrapSecret,
            ["WebConsole:Bootstrap:OperatorPassword"] = "security-e2e-operator-password",
        });

        await using var context = OpenDatabase();
        var now = DateTimeOffset.UtcNow;
        var organization = Organization.Create(Guid.NewGuid(), "Other", "other", now);
        var team = Team.Create(Guid.NewGuid(), organization.Id, "Theirs", now);
        context.AddRange(organization, team);
        context.Add(ApiKey.Create(OtherOrganizationKeyId, "theirs", organization.Id, team.Id, null, ApiKeySecrets.Hash(OtherOrganizationSecret),
            ApiKeyRole.InferenceAdmin, null, null, now));
        await context.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>The server's SQLite database in the system scope.</summary>
    public WebConsoleDbContext OpenDatabase()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        return new WebConsoleDbContext(options.Options);
    }

    public string DatabasePath => Path.Combine(Server.DataDirectory, "webconsole.db");

    public static string Encode(string id, string secret) => ApiKeySecrets.Encode(id, secret);

    public HttpClient Client(string? encoded = null, string scheme = "ApiKey")
    {
        var client = Server.CreateClient();
        if (encoded is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, encoded);
        }

        return client;
    }

    public HttpClient Bootstrap(string scheme = "ApiKey") => Client(Encode("bootstrap", BootstrapSecret), scheme);

    /// <summary>Creates a key through <c>POST /_security/api_key</c> with the bootstrap key; returns id and encoded.</summary>
    public async Task<(string Id, string Encoded)> CreateKeyAsync(object body)
    {
        using var client = Bootstrap();
        using var response = await client.PostAsJsonAsync("/_security/api_key", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var json = JsonDocument.Parse(text);
        var secret = json.RootElement.GetProperty("api_key").GetString()!;
        lock (Secrets)
        {
            Secrets.Add(secret);
        }

        return (json.RootElement.GetProperty("id").GetString()!, json.RootElement.GetProperty("encoded").GetString()!);
    }
}
