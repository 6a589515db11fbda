using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Models;

/// <summary>
/// Finds model folders by id: first the models registered by configuration (<c>Inference:Models:&lt;id&gt;:Path</c>),
/// then the model store (<c>&lt;Inference:ModelStorePath&gt;/&lt;id&gt;</c>, where an id such as <c>intfloat/e5-small</c>
/// is a nested folder). Folders are read once and cached; thread-safe.
/// </summary>
public sealed class ModelRegistry
{
    /// <summary>
    /// The store's working folder (<c>&lt;store&gt;/.staging</c>), where models are assembled before they move into the
    /// store; it holds no model and no id can name it.
    /// </summary>
    public const string StagingFolderName = ".staging";

    private readonly ModelRegistryOptions _options;
    private readonly ConcurrentDictionary<string, ModelFolder> _folders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the registry over the configured store and registrations.</summary>
    public ModelRegistry(IOptions<ModelRegistryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
    }

    /// <summary>The model folder of <paramref name="modelId"/>.</summary>
    /// <exception cref="ModelUnavailableException">No such model, or its folder is incomplete.</exception>
    public ModelFolder Get(string modelId) =>
        TryGet(modelId, out var folder)
            ? folder
            : throw new ModelUnavailableException(modelId, $"Model '{modelId}' is neither registered (Inference:Models) nor in the model store.");

    /// <summary>Looks a model up; false when no registration or store folder has that id.</summary>
    /// <exception cref="ModelUnavailableException">The model exists but its folder is incomplete.</exception>
    public bool TryGet(string modelId, out ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        if (_folders.TryGetValue(modelId, out folder!))
        {
            return true;
        }

        if (Locate(modelId) is not { } found)
        {
            return false;
        }

        folder = _folders.GetOrAdd(modelId, ModelFolder.Open(modelId, found.Path, found.Registration));
        return true;
    }

    /// <summary>Drops the cached folder of <paramref name="modelId"/>, so a model deleted or replaced in the store is read again.</summary>
    public void Forget(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        _folders.TryRemove(modelId, out _);
    }

    /// <summary>The ids of every registered model and every model folder in the store, sorted.</summary>
    public IReadOnlyList<string> ListIds()
    {
        var ids = new SortedSet<string>(_options.Models.Keys, StringComparer.OrdinalIgnoreCase);
        if (_options.ModelStorePath is { Length: > 0 } store && Directory.Exists(store))
        {
            AddStoreIds(store, store, depth: 0, ids);
        }

        return [.. ids];
    }

    /// <summary>
    /// Whether an id can name a store folder: segments of letters, digits, '.', '_' and '-' separated by single '/',
    /// none of them '.' or '..' (so an id never leaves the store).
    /// </summary>
    public static bool IsValidId(string modelId) =>
        !string.IsNullOrEmpty(modelId)
        && modelId.Split('/').All(segment => segment.Length > 0 && segment is not ("." or "..")
            && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'));

    // A model folder is one with an ONNX graph; its id is its path below the store with '/' separators. Model folders
    // are not searched further (their 1_Pooling and onnx sub-folders are not models), and ids have at most 3 segments.
    private static void AddStoreIds(string store, string folder, int depth, SortedSet<string> ids)
    {
        if (depth > 0 && (File.Exists(Path.Combine(folder, "onnx", "model.onnx")) || File.Exists(Path.Combine(folder, "model.onnx"))))
        {
            var id = Path.GetRelativePath(store, folder).Replace(Path.DirectorySeparatorChar, '/');
            if (IsValidId(id))
            {
                ids.Add(id);
            }

            return;
        }

        if (depth < 3)
        {
            foreach (var child in Directory.EnumerateDirectories(folder))
            {
                if (depth == 0 && Path.GetFileName(child) == StagingFolderName)
                {
                    continue;
                }

                AddStoreIds(store, child, depth + 1, ids);
            }
        }
    }

    private (string Path, ModelRegistration? Registration)? Locate(string modelId)
    {
        if (_options.Models.TryGetValue(modelId, out var registration))
        {
            return (registration.Path, registration);
        }

        if (_options.ModelStorePath is { Length: > 0 } store && IsValidId(modelId) && modelId.Split('/')[0] != StagingFolderName)
        {
            var folder = Path.Combine([store, .. modelId.Split('/')]);
            if (Directory.Exists(folder))
            {
                return (folder, null);
            }
        }

        return null;
    }
}
