using System.Collections.Concurrent;
using WebConsole.TestModels.Bert;
using WebConsole.Tests.Shared;

namespace WebConsole.TestModels;

/// <summary>
/// Generated model folders, shared by all tests: each is written once into the download cache at
/// <c>test-models/&lt;name&gt;-g&lt;generator version&gt;</c> (in a temporary sibling, then renamed, so a folder that exists
/// is complete even with several test processes racing) and reused until the generator version changes.
/// </summary>
public static class TestModelStore
{
    /// <summary>Bump when any generator's output changes, so caches on used machines are regenerated.</summary>
    public const int GeneratorVersion = 1;

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Folders = new(StringComparer.Ordinal);

    /// <summary>The folder of a generated model, written on first use.</summary>
    public static Task<string> GetAsync(TestModelKind kind) =>
        GetAsync(FolderName(kind), GeneratorVersion, folder => GenerateAsync(kind, folder));

    /// <summary>
    /// The folder of any generated model: <paramref name="generate"/> writes into the empty folder it is given the first
    /// time <paramref name="name"/> is asked for at <paramref name="version"/> on this machine.
    /// </summary>
    public static Task<string> GetAsync(string name, int version, Func<string, Task> generate)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(generate);
        var target = Path.Combine(TestEnvironment.CacheDirectory, "test-models", $"{name}-g{version}");
        return Folders.GetOrAdd(target, path => new Lazy<Task<string>>(() => CreateAsync(path, generate))).Value;
    }

    /// <summary>The folder name (and so the model id) of a kind; E5's carries "e5", as real E5 ids do.</summary>
    public static string FolderName(TestModelKind kind) => kind switch
    {
        TestModelKind.BertMeanPooling => "bert-mean-pooling",
        TestModelKind.BertClsPooling => "bert-cls-pooling",
        TestModelKind.E5 => "e5-small",
        TestModelKind.Splade => "splade",
        TestModelKind.CrossEncoder => "cross-encoder",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown test model."),
    };

    private static async Task<string> CreateAsync(string target, Func<string, Task> generate)
    {
        if (Directory.Exists(target))
        {
            return target;
        }

        var work = $"{target}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(work);
        try
        {
            await generate(work);
            try
            {
                Directory.Move(work, target);
            }
            catch (IOException) when (Directory.Exists(target))
            {
                // Another process generated the same folder first.
            }
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        return target;
    }

    private static async Task GenerateAsync(TestModelKind kind, string folder)
    {
        var vocabulary = await BertVocabulary.LoadAsync();
        var encoder = new BertArchitecture();
        var options = kind switch
        {
            TestModelKind.BertMeanPooling => new BertModelFolderOptions { Architecture = encoder, Seed = 11, Pooling = SentencePooling.Mean },
            TestModelKind.BertClsPooling => new BertModelFolderOptions { Architecture = encoder, Seed = 12, Pooling = SentencePooling.Cls },
            TestModelKind.E5 => new BertModelFolderOptions
            {
                Architecture = encoder,
                Seed = 13,
                Pooling = SentencePooling.Mean,
                Prompts = new Dictionary<string, string> { ["query"] = "query: ", ["passage"] = "passage: " },
            },
            TestModelKind.Splade => new BertModelFolderOptions { Architecture = encoder with { Head = BertHead.MaskedLanguageModel }, Seed = 14 },
            TestModelKind.CrossEncoder => new BertModelFolderOptions { Architecture = encoder with { Head = BertHead.SequenceClassification }, Seed = 15 },
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown test model."),
        };
        BertModelFolder.Write(folder, options, vocabulary);
    }
}
