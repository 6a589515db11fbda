using System.Globalization;

namespace WebConsole.Bench;

/// <summary>What one run measures and for how long; <c>--quick</c> is a short smoke of every suite.</summary>
internal sealed record BenchOptions
{
    public bool Quick { get; init; }

    /// <summary>Intra-op threads everywhere (server endpoints, the ceiling, the peer); the machine's cores by default.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public int Repeats { get; init; } = 5;

    /// <summary>Length of one throughput measurement.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Length of one micro-measurement (scaling points, limiter, ledger).</summary>
    public TimeSpan ShortDuration { get; init; } = TimeSpan.FromSeconds(3);

    public int CorpusSize { get; init; } = 512;

    /// <summary>Requests of one HTTP throughput run (each concurrency sends at least as many as it has in flight).</summary>
    public int RequestsPerRun { get; init; } = 512;

    public int[] Concurrencies { get; init; } = [1, 8, 32, 128];

    public int[] PeerBatchSizes { get; init; } = [1, 8, 32, 64];

    public int[] Lengths { get; init; } = [16, 32, 64, 128, 256, 512];

    public int[] BatchSizes { get; init; } = [1, 8, 32];

    public int ChatTokens { get; init; } = 128;

    /// <summary>Decode steps timed without the KV cache (four times as many with it).</summary>
    public int KvSteps { get; init; } = 16;

    public int GatewayRequests { get; init; } = 400;

    public int LedgerWriters { get; init; } = 64;

    public bool Peer { get; init; } = true;

    public bool Postgres { get; init; } = true;

    /// <summary>Suites to run (embed, rerank, chat, gateway, limiter, ledger, scaling); all when empty.</summary>
    public HashSet<string> Only { get; init; } = [];

    public string OutputDirectory { get; init; } = "bench/results";

    public string WebDll { get; init; } = string.Empty;

    public bool Runs(string suite) => Only.Count == 0 || Only.Contains(suite);

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--quick" => options with
                {
                    Quick = true,
                    Repeats = 2,
                    Duration = TimeSpan.FromSeconds(2),
                    ShortDuration = TimeSpan.FromSeconds(0.5),
                    CorpusSize = 48,
                    RequestsPerRun = 48,
                    Concurrencies = [1, 8, 32, 128],
                    PeerBatchSizes = [1, 8],
                    Lengths = [16, 128, 512],
                    BatchSizes = [1, 8],
                    ChatTokens = 8,
                    KvSteps = 2,
                    GatewayRequests = 40,
                    LedgerWriters = 16,
                },
                "--threads" => options with { Threads = Int() },
                "--repeats" => options with { Repeats = Int() },
                "--seconds" => options with { Duration = TimeSpan.FromSeconds(Int()) },
                "--only" => options with { Only = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] },
                "--no-peer" => options with { Peer = false },
                "--no-postgres" => options with { Postgres = false },
                "--out" => options with { OutputDirectory = Value() },
                "--web-dll" => options with { WebDll = Value() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return options;
    }
}
