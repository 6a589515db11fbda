using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.Outbound;

/// <summary>The outbound chain over real HTTP to a loopback provider.</summary>
public sealed class ProviderHttpClientsTests : IAsyncLifetime
{
    private FakeOpenAiServer _provider = default!;

    public async Task InitializeAsync() => _provider = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _provider.DisposeAsync();

    [Fact]
    public async Task A_loopback_provider_is_refused_before_connecting_unless_allowed()
    {
        using var refusing = Clients(new ConnectorOptions());
        using var client = refusing.Create(Call());
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Embeddings()));
        Assert.True(ProviderHttpClients.IsRefusal(failure));
        Assert.Empty(_provider.Requests);

        var error = ProviderErrors.FromException(failure, "my-endpoint")!;
        Assert.Equal(400, error.Status);
        Assert.Contains("[127.0.0.1]", error.Reason, StringComparison.Ordinal);
        Assert.Contains("Connectors:AllowedOutboundAddresses", error.Reason, StringComparison.Ordinal);

        using var allowing = Clients(new ConnectorOptions { AllowedOutboundAddresses = ["127.0.0.1"] });
        using var allowed = allowing.Create(Call());
        using var response = await allowed.SendAsync(Embeddings());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_provider.Requests);
    }

    [Fact]
    public async Task A_host_name_that_resolves_to_loopback_is_refused_too()
    {
        using var clients = Clients(new ConnectorOptions());
        using var client = clients.Create(Call());

        // The check runs on the addresses the name resolves to when connecting, not on the name.
        var request = Embeddings(new Uri($"http://localhost:{_provider.Port}/v1/embeddings"));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(request));
        var refusal = ProviderHttpClients.FindRefusal(failure);
        Assert.NotNull(refusal);
        Assert.Equal("localhost", refusal.Host);
    }

    [Fact]
    public async Task A_429_then_success_is_retried_after_the_Retry_After_the_provider_asked_for()
    {
        _provider.Faults.Enqueue(FakeFault.Status(429, "Rate limit reached", retryAfterSeconds: 1));
        using var clients = Clients(Allowed());
        using var client = clients.Create(Call());
        var started = Stopwatch.GetTimestamp();

        using var response = await client.SendAsync(Embeddings());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _provider.Requests.Count);
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(950), "the retry came before Retry-After");
        var gap = Stopwatch.GetElapsedTime(_provider.Requests[0].ReceivedAt, _provider.Requests[1].ReceivedAt);
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"the attempts were {gap} apart");
        // The body was sent again whole.
        Assert.Equal(_provider.Requests[0].Body, _provider.Requests[1].Body);
    }

    [Fact]
    public async Task Server_errors_are_retried_a_few_times_then_the_last_answer_is_returned()
    {
        foreach (var _ in Enumerable.Range(0, 5))
        {
            _provider.Faults.Enqueue(FakeFault.Status(500));
        }

        using var clients = Clients(Allowed(maxRetries: 2));
        using var client = clients.Create(Call());
        using var response = await client.SendAsync(Embeddings());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(3, _provider.Requests.Count);
        Assert.Contains("The server had an error", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_errors_and_a_Retry_After_beyond_the_longest_wait_are_not_retried()
    {
        _provider.Faults.Enqueue(FakeFault.Status(400, "bad input"));
        _provider.Faults.Enqueue(FakeFault.Status(429, "come back tomorrow", retryAfterSeconds: 3600));
        using var clients = Clients(Allowed());
        using var client = clients.Create(Call());

        using var bad = await client.SendAsync(Embeddings());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var limited = await client.SendAsync(Embeddings());
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(2, _provider.Requests.Count);
    }

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        _provider.Faults.Enqueue(FakeFault.Reset);
        using var clients = Clients(Allowed());
        using var client = clients.Create(Call());
        using var response = await client.SendAsync(Embeddings());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _provider.Requests.Count);
    }

    [Fact]
    public async Task An_attempt_past_its_timeout_is_the_contracts_408_and_is_not_retried()
    {
        _provider.Faults.Enqueue(FakeFault.Hang);
        using var clients = Clients(Allowed());
        using var client = clients.Create(Call(timeout: TimeSpan.FromMilliseconds(1500)));
        var started = Stopwatch.GetTimestamp();

        var failure = await Assert.ThrowsAsync<ProviderTimeoutException>(() => client.SendAsync(Embeddings()));

        Assert.InRange(Stopwatch.GetElapsedTime(started), TimeSpan.FromMilliseconds(1450), TimeSpan.FromSeconds(10));

        // Not retried: a retry (20 ms later) would have arrived by now. On a loaded machine the one attempt may itself
        // not have reached the provider before its time ran out, so at most one is seen.
        await Task.Delay(300);
        Assert.InRange(_provider.Requests.Count, 0, 1);
        var error = ProviderErrors.FromException(failure, "e")!;
        Assert.Equal((408, "Request timed out"), (error.Status, error.Reason));
    }

    [Fact]
    public async Task The_callers_cancellation_passes_through_unchanged()
    {
        _provider.Faults.Enqueue(FakeFault.Hang);
        using var clients = Clients(Allowed());
        using var client = clients.Create(Call());
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Embeddings(), cancel.Token));
    }

    [Fact]
    public async Task Calls_of_one_throttle_key_keep_the_configured_rate()
    {
        using var clients = Clients(Allowed());
        using var client = clients.Create(Call() with { RequestsPerMinute = 300 }); // one every 200 ms
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await client.SendAsync(Embeddings());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }));

        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(580), "four calls at 300 a minute took less than 600 ms");
        // Measured from the start: a request the busy machine sends late may arrive close to the next one, but none
        // arrives before its slot (0, 200, 400, 600 ms).
        var arrivals = _provider.Requests.Select(r => Stopwatch.GetElapsedTime(started, r.ReceivedAt)).Order().ToList();
        for (var i = 1; i < arrivals.Count; i++)
        {
            Assert.True(arrivals[i] >= TimeSpan.FromMilliseconds((i * 200) - 20), $"request {i + 1} arrived after {arrivals[i]}, before its slot");
        }
    }

    [Fact]
    public async Task Retries_are_logged_without_secrets_or_query_strings()
    {
        var logger = new ListLogger();
        _provider.Faults.Enqueue(FakeFault.Status(503));
        using var clients = new ProviderHttpClients(Options.Create(Allowed()), TimeProvider.System, logger);
        using var client = clients.Create(Call());
        using var request = Embeddings(new Uri($"{_provider.BaseUrl}/v1/embeddings?key=query-secret"));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var line = Assert.Single(logger.Lines);
        Assert.Contains("[503]", line, StringComparison.Ordinal);
        Assert.Contains("/v1/embeddings", line, StringComparison.Ordinal);
        Assert.DoesNotContain("query-secret", line, StringComparison.Ordinal);
        Assert.DoesNotContain(_provider.ApiKey, line, StringComparison.Ordinal);
    }

    private static ConnectorOptions Allowed(int maxRetries = 2) => new()
    {
        AllowedOutboundAddresses = ["127.0.0.1"],
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromSeconds(5),
    };

    private static ProviderHttpClients Clients(ConnectorOptions options) =>
        new(Options.Create(options), TimeProvider.System, NullLogger<ProviderHttpClients>.Instance);

    private static ProviderCallOptions Call(TimeSpan? timeout = null) =>
        new("openai", Guid.NewGuid().ToString("N"), null, timeout ?? TimeSpan.FromSeconds(10)) { InferenceId = "e" };

    private HttpRequestMessage Embeddings(Uri? uri = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri ?? new Uri($"{_provider.BaseUrl}/v1/embeddings"))
        {
            Content = new StringContent("""{"input":["hello world"],"model":"m"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _provider.ApiKey);
        return request;
    }

    private sealed class ListLogger : ILogger<ProviderHttpClients>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}
