using System.Text;

namespace WebConsole.E2E.Infrastructure;

/// <summary>
/// One real WebConsole server (fresh SQLite data directory) shared by a test collection, started with a known operator
/// password and bootstrap API key so tests can sign in to the portal and call the API at once.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    /// <summary>The operator account the first start creates (<c>WebConsole:Bootstrap:OperatorEmail</c>).</summary>
    public const string OperatorEmail = "operator@e2e.test";

    /// <summary>Its password (<c>WebConsole:Bootstrap:OperatorPassword</c>).</summary>
    public const string OperatorPassword = "e2e-operator-password-1";

    /// <summary>The secret of the <c>bootstrap</c> key (<c>WebConsole:Bootstrap:ApiKey</c>, role inference_admin).</summary>
    public const string BootstrapSecret = "e2e-bootstrap-secret-0123456789abcdef";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The bootstrap key as clients send it: base64("bootstrap:secret"), after <c>ApiKey </c> or <c>Bearer </c>.</summary>
    public static string BootstrapApiKey { get; } = Convert.ToBase64String(Encoding.UTF8.GetBytes($"bootstrap:{BootstrapSecret}"));

    /// <summary>The settings the fixture's server starts with; tests that start their own server can reuse them.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["WebConsole:Bootstrap:OperatorEmail"] = OperatorEmail,
        ["WebConsole:Bootstrap:OperatorPassword"] = OperatorPassword,
        ["WebConsole:Bootstrap:ApiKey"] = BootstrapSecret,
    };

    public async Task InitializeAsync() => _server = await WebConsoleServer.StartAsync(Settings.ToDictionary());

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "server";
}
