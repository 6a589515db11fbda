using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace WebConsole.E2E.Playground;

/// <summary>
/// The .NET SignalR client (Microsoft.AspNetCore.SignalR.Client.Core) on a plain WebSocket: the package with the HTTP
/// transports (Microsoft.AspNetCore.Http.Connections.Client) is absent from this registry, so the connection factory is
/// this file's, with negotiation skipped (which ASP.NET Core accepts for WebSockets).
/// </summary>
internal static class HubClients
{
    /// <summary>A started connection to <paramref name="hubUrl"/> (http or https); <paramref name="configure"/> sets headers.</summary>
    public static async Task<HubConnection> ConnectAsync(Uri hubUrl, Action<ClientWebSocketOptions>? configure = null)
    {
        var builder = new HubConnectionBuilder();
        builder.Services.AddSingleton<IConnectionFactory>(new WebSocketConnectionFactory(configure));
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(hubUrl));
        var connection = builder.Build();
        connection.ServerTimeout = TimeSpan.FromMinutes(2);
        await connection.StartAsync();
        return connection;
    }

    /// <summary>A connection authenticated with <c>Authorization: ApiKey &lt;encoded key&gt;</c>.</summary>
    public static Task<HubConnection> ConnectWithKeyAsync(Uri baseAddress, string encodedKey, string scheme = "ApiKey") =>
        ConnectAsync(new Uri(baseAddress, "/hubs/chat"), options => options.SetRequestHeader("Authorization", $"{scheme} {encodedKey}"));

    private sealed class WebSocketConnectionFactory(Action<ClientWebSocketOptions>? configure) : IConnectionFactory
    {
        public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            var uri = ((UriEndPoint)endpoint).Uri;
            var builder = new UriBuilder(uri) { Scheme = uri.Scheme == "https" ? "wss" : "ws" };
            var socket = new ClientWebSocket();
            configure?.Invoke(socket.Options);
            try
            {
                await socket.ConnectAsync(builder.Uri, cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new WebSocketConnection(socket);
        }
    }

    /// <summary>Pumps a WebSocket into and out of the pipe pair SignalR reads and writes.</summary>
    private sealed class WebSocketConnection : ConnectionContext
    {
        private readonly ClientWebSocket _socket;
        private readonly Pipe _input = new();
        private readonly Pipe _output = new();
        private readonly CancellationTokenSource _closed = new();
        private readonly Task _receiving;
        private readonly Task _sending;

        public WebSocketConnection(ClientWebSocket socket)
        {
            _socket = socket;
            Transport = new Duplex(_input.Reader, _output.Writer);
            _receiving = ReceiveAsync();
            _sending = SendAsync();
        }

        public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override IDuplexPipe Transport { get; set; }

        public override void Abort() => _closed.Cancel();

        public override async ValueTask DisposeAsync()
        {
            await _output.Writer.CompleteAsync();
            try
            {
                await _sending.WaitAsync(TimeSpan.FromSeconds(5));
                if (_socket.State == WebSocketState.Open)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or TimeoutException or OperationCanceledException)
            {
                // The server went first.
            }

            await _closed.CancelAsync();
            await Task.WhenAny(_receiving, Task.Delay(TimeSpan.FromSeconds(5)));
            _socket.Dispose();
            _closed.Dispose();
            await base.DisposeAsync();
        }

        private async Task ReceiveAsync()
        {
            try
            {
                while (!_closed.IsCancellationRequested)
                {
                    var memory = _input.Writer.GetMemory(4096);
                    var result = await _socket.ReceiveAsync(memory, _closed.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    _input.Writer.Advance(result.Count);
                    var flushed = await _input.Writer.FlushAsync();
                    if (flushed.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Closed.
            }

            await _input.Writer.CompleteAsync();
        }

        private async Task SendAsync()
        {
            try
            {
                while (true)
                {
                    var result = await _output.Reader.ReadAsync(_closed.Token);
                    foreach (var segment in result.Buffer)
                    {
                        await _socket.SendAsync(segment, WebSocketMessageType.Binary, endOfMessage: true, _closed.Token);
                    }

                    _output.Reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // Closed.
            }

            await _output.Reader.CompleteAsync();
        }

        private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
        {
            public PipeReader Input { get; } = input;

            public PipeWriter Output { get; } = output;
        }
    }
}
