namespace WebConsole.E2E.Infrastructure;

/// <summary>One real WebConsole server (fresh SQLite data directory) shared by a test collection.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await WebConsoleServer.StartAsync();

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
