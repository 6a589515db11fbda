using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Infrastructure.Admission;

/// <summary>What a request asks for, known before it runs: who, which endpoint and model, and how many tokens.</summary>
/// <param name="Caller">Who asks.</param>
/// <param name="Endpoint">The resolved endpoint (the caller's organization).</param>
/// <param name="ModelId">The model behind the endpoint (the endpoint id when it names none).</param>
/// <param name="InputTokens">Input tokens, counted with the endpoint's own tokenizer where it has one.</param>
/// <param name="EstimatedOutputTokens">Output tokens expected (generation: the request's cap); reconciled when known.</param>
/// <param name="TokenBudget">The token budget the request counts against (ingest or search).</param>
/// <param name="RequestId">The request's id (the usage record's).</param>
public sealed record AdmissionRequest(
    CallerIdentity Caller,
    InferenceEndpoint Endpoint,
    string ModelId,
    long InputTokens,
    long EstimatedOutputTokens,
    TokenBudget TokenBudget,
    string RequestId);

/// <summary>
/// One check a request must pass before it runs (rate limits, budgets). A gate that refuses throws an
/// <see cref="InferenceApiException"/> (429, 402, ...) whose <see cref="InferenceApiException.Headers"/> the surfaces send;
/// a gate that admits answers a pass that is settled once the request's real usage is known. Gates are singletons and
/// thread-safe; they run in <see cref="Order"/>.
/// </summary>
public interface IAdmissionGate
{
    /// <summary>Lower runs first.</summary>
    int Order { get; }

    /// <summary>Admits the request (and reserves what it needs) or throws.</summary>
    ValueTask<AdmissionPass> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);
}

/// <summary>A gate's admission of one request.</summary>
public abstract class AdmissionPass
{
    /// <summary>A pass with nothing to settle and no headers.</summary>
    public static AdmissionPass None { get; } = new NoPass();

    /// <summary>Response headers the gate adds (e.g. <c>x-ratelimit-*</c>, a budget warning); sent on success and on refusals by later gates.</summary>
    public virtual IReadOnlyList<KeyValuePair<string, string>> Headers => [];

    /// <summary>The request ran (or was cut short) and consumed this; called at most once, before <see cref="Release"/> would be.</summary>
    public virtual void Settle(long inputTokens, long outputTokens, decimal cost)
    {
    }

    /// <summary>The request did no work (refused by a later gate, or failed before it ran): give back what was reserved.</summary>
    public virtual void Release()
    {
    }

    private sealed class NoPass : AdmissionPass;
}

/// <summary>
/// Runs every registered <see cref="IAdmissionGate"/> for a request, the one set of domain checks shared by every surface
/// (REST, streams, the hub, chunked inference). A refusal releases what earlier gates reserved.
/// </summary>
public sealed class InferenceAdmission(IEnumerable<IAdmissionGate> gates)
{
    private readonly IAdmissionGate[] _gates = [.. gates.OrderBy(g => g.Order)];

    /// <summary>Admits the request through every gate, or throws the first refusal.</summary>
    public async ValueTask<AdmissionTicket> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var passes = new List<AdmissionPass>(_gates.Length);
        try
        {
            foreach (var gate in _gates)
            {
                passes.Add(await gate.AdmitAsync(request, cancellationToken));
            }
        }
        catch (InferenceApiException refusal)
        {
            foreach (var pass in passes)
            {
                pass.Release();
            }

            // The refusing gate's headers come first; earlier gates' (e.g. the rate limit's) are still sent.
            var earlier = passes.SelectMany(p => p.Headers).Where(h => !refusal.Headers.Any(r => string.Equals(r.Key, h.Key, StringComparison.OrdinalIgnoreCase)));
            throw refusal.WithHeaders([.. refusal.Headers, .. earlier]);
        }
        catch
        {
            foreach (var pass in passes)
            {
                pass.Release();
            }

            throw;
        }

        return new AdmissionTicket(passes);
    }
}

/// <summary>The passes of one admitted request; settled once, or released when the request did no work.</summary>
public sealed class AdmissionTicket
{
    private readonly IReadOnlyList<AdmissionPass> _passes;
    private int _done;

    internal AdmissionTicket(IReadOnlyList<AdmissionPass> passes) => _passes = passes;

    /// <summary>Every gate's response headers.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers => [.. _passes.SelectMany(p => p.Headers)];

    /// <summary>Whether the ticket was settled or released.</summary>
    public bool IsDone => Volatile.Read(ref _done) != 0;

    /// <summary>Reports what the request consumed (first call wins).</summary>
    public void Settle(long inputTokens, long outputTokens, decimal cost)
    {
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            foreach (var pass in _passes)
            {
                pass.Settle(inputTokens, outputTokens, cost);
            }
        }
    }

    /// <summary>Gives back what was reserved when the request did no work (no-op once settled).</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            foreach (var pass in _passes)
            {
                pass.Release();
            }
        }
    }
}
