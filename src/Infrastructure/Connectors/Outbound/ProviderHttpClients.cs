using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// The HTTP clients every connector calls its provider with. Each client runs, outermost first: retries (Polly, with
/// exponential backoff and jitter on 429, 408 and 5xx and on transient network errors, honouring <c>Retry-After</c> and
/// <c>retry-after-ms</c>, only before a response is handed to the caller); the outbound throttle of the endpoint's
/// <see cref="ProviderCallOptions.ThrottleKey"/> (calls wait for their slot); the per-attempt timeout; and one shared
/// <see cref="SocketsHttpHandler"/> whose connect step refuses non-public addresses (<see cref="OutboundAddressGuard"/>).
/// No proxy and no redirects are followed, so the guard sees every destination. Singleton; clients are cheap (the
/// connection pool is shared) and may be kept by a connector for the life of its endpoint client.
/// </summary>
public sealed partial class ProviderHttpClients : IDisposable
{
    private readonly SocketsHttpHandler _sockets;
    private readonly OutboundThrottle _throttle;
    private readonly ConnectorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ProviderHttpClients> _logger;

    /// <summary>Creates the factory over the operator's <see cref="ConnectorOptions"/>.</summary>
    public ProviderHttpClients(IOptions<ConnectorOptions> options, TimeProvider time, ILogger<ProviderHttpClients> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
        Guard = new OutboundAddressGuard(_options.ParseAllowList());
        _throttle = new OutboundThrottle(time);
        _sockets = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            // Re-resolve names now and then: a pooled connection keeps the address it was checked against.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = Guard.ConnectAsync,
        };
    }

    /// <summary>The private-address guard every client connects through.</summary>
    public OutboundAddressGuard Guard { get; }

    /// <summary>The throttle shared by all clients (keyed by <see cref="ProviderCallOptions.ThrottleKey"/>).</summary>
    public OutboundThrottle Throttle => _throttle;

    /// <summary>The operator's connector settings.</summary>
    public ConnectorOptions Options => _options;

    /// <summary>
    /// A client with the retry, throttle, timeout and guard chain for <paramref name="options"/>. Its own
    /// <see cref="HttpClient.Timeout"/> is infinite: the per-attempt timeout and the caller's token bound a call.
    /// Send streaming requests with <see cref="HttpCompletionOption.ResponseHeadersRead"/>; plain answers are read whole
    /// inside the attempt (so a body that stalls times out and a connection reset while reading is retried).
    /// </summary>
    public HttpClient Create(ProviderCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeout = new AttemptTimeoutHandler(options.Timeout, _time) { InnerHandler = _sockets };
        var throttle = new ThrottleHandler(_throttle, options) { InnerHandler = timeout };
        var retry = new RetryHandler(BuildPipeline(options)) { InnerHandler = throttle };
        return new HttpClient(retry, disposeHandler: false) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public void Dispose() => _sockets.Dispose();

    /// <summary>The wait a response asks for (<c>retry-after-ms</c>, else <c>Retry-After</c> seconds or date); null when none.</summary>
    public static TimeSpan? RetryAfterOf(HttpResponseMessage response, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(time);
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var millis)
            && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
            { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }

    /// <summary>Whether a status is worth another attempt: 408, 429 and 5xx other than 501 and 505.</summary>
    public static bool IsRetryableStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        || ((int)status >= 500 && status is not HttpStatusCode.NotImplemented and not HttpStatusCode.HttpVersionNotSupported);

    /// <summary>Whether an exception is a transient network failure (not a refused address, not a timeout).</summary>
    public static bool IsTransient(Exception exception) =>
        exception is HttpRequestException or IOException && !IsRefusal(exception) && FindTimeout(exception) is null;

    /// <summary>Whether the guard refused the destination somewhere in the exception's chain.</summary>
    public static bool IsRefusal(Exception exception) => FindRefusal(exception) is not null;

    /// <summary>The guard's refusal in the exception's chain; null when none.</summary>
    public static OutboundAddressRefusedException? FindRefusal(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OutboundAddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    /// <summary>The attempt timeout in the exception's chain; null when none.</summary>
    public static ProviderTimeoutException? FindTimeout(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is ProviderTimeoutException timeout)
            {
                return timeout;
            }
        }

        return null;
    }

    private ResiliencePipeline<HttpResponseMessage> BuildPipeline(ProviderCallOptions call)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time };
        if (_options.MaxRetries <= 0)
        {
            return builder.Build();
        }

        var maxDelay = _options.MaxRetryDelay;
        return builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = _options.MaxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryBaseDelay,
            MaxDelay = maxDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: { } exception } => IsTransient(exception),
                { Result: { } response } => IsRetryableStatus(response.StatusCode)
                    && (RetryAfterOf(response, _time) is not { } wait || wait <= maxDelay),
                _ => false,
            }),
            DelayGenerator = args => ValueTask.FromResult(
                args.Outcome.Result is { } response ? RetryAfterOf(response, _time) : null),
            OnRetry = args =>
            {
                var request = args.Context.Properties.GetValue(RetryHandler.RequestKey, null!);
                LogRetry(
                    _logger,
                    call.Service,
                    call.InferenceId ?? "-",
                    request is null ? "-" : SecretRedaction.Redact(SecretRedaction.DescribeUri(request.RequestUri), SecretHeaderValues(request, call)),
                    args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "-",
                    args.AttemptNumber + 1,
                    args.RetryDelay.TotalMilliseconds);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    // The values of the credential headers of a request, bare and as sent, to redact from anything logged about it.
    private static IEnumerable<string> SecretHeaderValues(HttpRequestMessage request, ProviderCallOptions call)
    {
        foreach (var name in SecretRedaction.CredentialHeaders.Concat(call.SecretHeaders))
        {
            if (request.Headers.TryGetValues(name, out var values))
            {
                foreach (var value in values)
                {
                    yield return value;
                    if (value.IndexOf(' ', StringComparison.Ordinal) is var space and > 0)
                    {
                        yield return value[(space + 1)..];
                    }
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Retrying the {Service} call of inference endpoint [{InferenceId}] to {Destination} after [{Outcome}]: retry {Retry} in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string service, string inferenceId, string destination, string outcome, int retry, double delayMs);

    /// <summary>Runs each call through the retry pipeline; buffers the request body first so an attempt can resend it.</summary>
    private sealed class RetryHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
    {
        public static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("webconsole.request");

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is { } content)
            {
                await content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
            }

            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(RequestKey, request);
            try
            {
                return await pipeline.ExecuteAsync(
                    static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Handler.SendOnceAsync(state.Request, ctx.CancellationToken)),
                    context,
                    (Handler: this, Request: request)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        private Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            base.SendAsync(request, cancellationToken);
    }

    /// <summary>Waits for the call's slot of the outbound throttle.</summary>
    private sealed class ThrottleHandler(OutboundThrottle throttle, ProviderCallOptions options) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await throttle.WaitAsync(options.ThrottleKey, options.RequestsPerMinute, cancellationToken).ConfigureAwait(false);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Bounds one attempt: until the whole body is read for plain answers, and between two reads for event streams (a
    /// stream may run long, but must not stall). The caller's own cancellation passes through unchanged.
    /// </summary>
    private sealed class AttemptTimeoutHandler(TimeSpan timeout, TimeProvider time) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (timeout <= TimeSpan.Zero || timeout == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            using var timer = new CancellationTokenSource(timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            HttpResponseMessage? response = null;
            try
            {
                response = await base.SendAsync(request, linked.Token).ConfigureAwait(false);
                if (IsEventStream(response))
                {
                    response.Content = new IdleTimeoutContent(response.Content, timeout, time);
                }
                else
                {
                    await response.Content.LoadIntoBufferAsync(linked.Token).ConfigureAwait(false);
                }

                return response;
            }
            catch (Exception ex) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested && ex is OperationCanceledException or IOException or HttpRequestException)
            {
                response?.Dispose();
                throw new ProviderTimeoutException(timeout, ex);
            }
            catch
            {
                response?.Dispose();
                throw;
            }
        }

        private static bool IsEventStream(HttpResponseMessage response) =>
            string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>An attempt to reach a provider outlasted its timeout (the contract's 408).</summary>
public sealed class ProviderTimeoutException(TimeSpan timeout, Exception? innerException = null)
    : TimeoutException($"Request timed out after [{timeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}s] waiting for the provider", innerException)
{
    /// <summary>The timeout that ran out.</summary>
    public TimeSpan Timeout { get; } = timeout;
}
