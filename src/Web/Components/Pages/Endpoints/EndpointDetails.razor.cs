using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Text;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.ModelStore;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Inference;
using WebConsole.Web.Components.Endpoints;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// One endpoint: its configuration (secrets never present, only named and masked), its deployment and model download
/// (refreshed every second), the last 24 hours of requests, tokens and errors from the usage ledger, a "try it" box that
/// runs through the REST surface's inference path (limits, budgets and billing apply), and the chunking preview with the
/// endpoint's own settings.
/// </summary>
public sealed partial class EndpointDetails : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private const int UsageEveryTicks = 10;
    private const int MaxOutputCharacters = 4000;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly CancellationTokenSource _closing = new();
    private EndpointsPortal _portal = default!;
    private CallerIdentity? _caller;
    private bool _notFound;
    private JsonObject? _endpoint;
    private EndpointRow? _row;
    private TaskType _taskType;
    private string _configJson = string.Empty;
    private IReadOnlyList<string> _secretFields = [];
    private DeploymentSnapshot? _deployment;
    private ModelDownloadStatus? _download;
    private IReadOnlyList<UsageHour> _usage = [];

    private string _tryInput = string.Empty;
    private string _tryQuery = string.Empty;
    private bool _trying;
    private string? _tryError;
    private TryResult? _tryResult;
    private string _tryOutput = string.Empty;

    private EndpointForm? _editForm;
    private bool _saving;

    private ChunkingSettings? _chunking;
    private string _chunkingJson = string.Empty;
    private string _chunkInput = string.Empty;
    private string? _chunkError;
    private List<(int Start, int End, string Text, int Words)>? _chunks;

    /// <summary>The endpoint shown (route value).</summary>
    [Parameter]
    public string InferenceId { get; set; } = string.Empty;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private IServiceProvider Services { get; set; } = default!;

    [Inject]
    private ITextChunker Chunker { get; set; } = default!;

    [Inject]
    private ITextSegmenter Segmenter { get; set; } = default!;

    [Inject]
    private IOptions<InferenceApiOptions> Limits { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    [Inject]
    private Radzen.NotificationService Notifications { get; set; } = default!;

    [Inject]
    private ILogger<EndpointDetails> Log { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        _portal = ActivatorUtilities.CreateInstance<EndpointsPortal>(Services);
        if (!RendererInfo.IsInteractive || _caller is null)
        {
            return;
        }

        _endpoint = await _portal.GetAsync(_caller, InferenceId, _closing.Token);
        if (_endpoint is null)
        {
            _notFound = true;
            return;
        }

        await ShowAsync(_endpoint);
        if (EndpointsPortal.CanManage(_caller) && !_row!.IsReserved)
        {
            _editForm = new EndpointForm(_portal.Services);
            _editForm.StartUpdate(_row.Service, _row.TaskType);
        }

        _tryInput = _taskType switch
        {
            TaskType.Rerank => "The quick brown fox jumps over the lazy dog.\nA paragraph about embeddings and search.",
            TaskType.ChatCompletion or TaskType.Completion => "Say hello.",
            _ => "The quick brown fox jumps over the lazy dog.",
        };
        _tryQuery = "search";
        RefreshLive();
        await LoadUsageAsync();
        _ = RefreshLoopAsync(_closing.Token);
    }

    // The configuration, row, secrets' names and chunking of a (new) stored configuration.
    private async Task ShowAsync(JsonObject endpoint)
    {
        _endpoint = endpoint;
        _row = await _portal.RowAsync(_caller!, endpoint, _closing.Token);
        _taskType = TaskTypes.Parse(_row.TaskType);
        _configJson = endpoint.ToJsonString(Indented);
        var service = _portal.Services.FirstOrDefault(s => s.Name == _row.Service);
        _secretFields = service is null ? [] : [.. service.SecretFields.Order(StringComparer.Ordinal)];
        _chunking = EndpointsPortal.ChunkingOf(endpoint);
        _chunkingJson = _chunking is { } chunking ? EndpointJson.ChunkingToJson(chunking).ToJsonString() : string.Empty;
    }

    private async Task UpdateAsync()
    {
        if (_editForm is null || _saving || _caller is null || _row is null || _editForm.BuildUpdateBody() is not { } body)
        {
            return;
        }

        _saving = true;
        try
        {
            await ShowAsync(await _portal.UpdateAsync(_caller, InferenceId, body, _closing.Token));
            _editForm.StartUpdate(_row.Service, _row.TaskType);
            Notifications.Notify(Radzen.NotificationSeverity.Success, "Endpoint updated", InferenceId);
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error)
        {
            _editForm.ShowServerError(error.Reason);
        }
        finally
        {
            _saving = false;
        }
    }

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }

    private void RefreshLive()
    {
        if (_endpoint is null || _caller is null || _row is null)
        {
            return;
        }

        _deployment = _row.Service == ElasticsearchInferenceService.ServiceName ? _portal.Deployment(_caller, _endpoint) : null;
        _download = _row.Service == ElasticsearchInferenceService.ServiceName && _row.ModelId is { } model ? _portal.DownloadOf(model) : null;
    }

    private async Task LoadUsageAsync()
    {
        try
        {
            _usage = await _portal.UsageAsync(_caller!, InferenceId, _closing.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            Log.LogWarning(ex, "Reading the usage of {InferenceId} failed", InferenceId);
        }
    }

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Tick, Clock);
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var usage = ++ticks % UsageEveryTicks == 0;
                await InvokeAsync(async () =>
                {
                    RefreshLive();
                    if (usage)
                    {
                        await LoadUsageAsync();
                    }

                    StateHasChanged();
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The page was left.
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Refreshing the endpoint page failed; it stops refreshing");
        }
    }

    private async Task TryAsync()
    {
        if (_trying || _caller is null)
        {
            return;
        }

        _trying = true;
        _tryError = null;
        try
        {
            _tryResult = await _portal.TryAsync(_caller, InferenceId, TryBody(), _closing.Token);
            var text = _tryResult.Body.ToJsonString(Indented);
            _tryOutput = text.Length <= MaxOutputCharacters ? text : string.Concat(text.AsSpan(0, MaxOutputCharacters), "\n…");
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error)
        {
            _tryResult = null;
            _tryError = $"{error.Status.ToString(CultureInfo.InvariantCulture)}: {error.Reason}";
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            return;
        }
        finally
        {
            _trying = false;
        }

        RefreshLive();
        await LoadUsageAsync();
    }

    // The body of POST /_inference for the endpoint's task type.
    private JsonObject TryBody() => _taskType switch
    {
        TaskType.Rerank => new JsonObject
        {
            ["query"] = _tryQuery,
            ["input"] = new JsonArray([.. Lines(_tryInput).Select(l => (JsonNode)l)]),
        },
        TaskType.ChatCompletion => new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = _tryInput }),
            ["max_completion_tokens"] = 32,
        },
        _ => new JsonObject { ["input"] = _tryInput },
    };

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Summary(TryResult result)
    {
        var what = result.Body switch
        {
            JsonObject o when o["text_embedding"] is JsonArray dense =>
                $"{dense.Count.ToString(CultureInfo.InvariantCulture)} embedding(s) of {(dense.FirstOrDefault()?["embedding"] as JsonArray)?.Count.ToString(CultureInfo.InvariantCulture) ?? "0"} dimensions",
            JsonObject o when o["sparse_embedding"] is JsonArray sparse =>
                $"{sparse.Count.ToString(CultureInfo.InvariantCulture)} sparse embedding(s) of {(sparse.FirstOrDefault()?["embedding"] as JsonObject)?.Count.ToString(CultureInfo.InvariantCulture) ?? "0"} tokens",
            JsonObject o when o["rerank"] is JsonArray ranked => $"{ranked.Count.ToString(CultureInfo.InvariantCulture)} document(s) ranked",
            JsonObject o when o["completion"] is JsonArray => "completed",
            _ => "answered",
        };
        return $"{what} · {result.InputTokens.ToString(CultureInfo.InvariantCulture)} input and {result.OutputTokens.ToString(CultureInfo.InvariantCulture)} output tokens · cost {result.Cost.ToString(CultureInfo.InvariantCulture)}";
    }

    // The chunker of POST /api/chunking/preview, with the endpoint's settings and the REST input limit.
    private void PreviewChunks()
    {
        _chunkError = null;
        if (_chunking is not { } settings)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetByteCount(_chunkInput);
        if (bytes > Limits.Value.MaxInputBytes)
        {
            _chunkError = $"Input is too large [{bytes.ToString(CultureInfo.InvariantCulture)}] bytes, the maximum is [{Limits.Value.MaxInputBytes.ToString(CultureInfo.InvariantCulture)}] bytes";
            return;
        }

        _chunks = [.. Chunker.Chunk(_chunkInput, settings).Select(chunk =>
        {
            var slice = chunk.Slice(_chunkInput);
            return (chunk.StartOffset, chunk.EndOffset, slice, Segmenter.CountWords(slice));
        })];
    }

    private static string StateBadge(DeploymentState state) => state switch
    {
        DeploymentState.Started => "rz-badge-success",
        DeploymentState.Failed => "rz-badge-danger",
        DeploymentState.Starting => "rz-badge-secondary",
        _ => "rz-badge-light",
    };
}
