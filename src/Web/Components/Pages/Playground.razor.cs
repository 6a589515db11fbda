using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using WebConsole.Domain;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Playground;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The streaming chat playground. Answers stream through the circuit from <see cref="ChatStreaming"/>, the core the chat
/// hub uses (so the same parsing, limits, admission and billing as the REST surfaces, recorded as the portal's usage), and
/// render token by token as inert markdown. Stop cancels the stream (the generation stops and its tokens are billed);
/// regenerate, edit-and-resend, compare mode (two endpoints, the same prompt), live metrics, "view code" and saved
/// conversations (<see cref="ConversationStore"/>) complete it.
/// </summary>
public sealed partial class Playground : IDisposable
{
    private readonly ChatPane[] _panes = [new(), new()];
    private List<EndpointChoice> _endpoints = [];
    private List<SavedConversation> _conversations = [];
    private CallerIdentity? _caller;
    private CancellationTokenSource? _stop;
    private Guid? _conversationId;
    private bool _compare;
    private bool _showCode;
    private string _codeLanguage = CodeSamples.Languages[0];
    private string? _error;
    private string _prompt = string.Empty;
    private string _systemPrompt = string.Empty;
    private double? _temperature;
    private double? _topP;
    private int? _maxTokens = 256;
    private string _stopSequences = string.Empty;
    private long? _seed;
    private (int Pane, int Message)? _editing;
    private string _editText = string.Empty;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private ChatStreaming Streaming { get; set; } = default!;

    [Inject]
    private ConversationStore Conversations { get; set; } = default!;

    [Inject]
    private InferenceEndpointService Endpoints { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    private bool Busy => _panes.Any(p => p.Streaming);

    private bool HasMessages => _panes[0].Messages.Count > 0;

    private bool CanRegenerate => _panes.Take(_compare ? 2 : 1).Any(p => p.Messages.Any(m => m.Role == "user"));

    private string BaseUrl => Navigation.BaseUri;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        if (_caller is null)
        {
            _error = "Your session carries no organization; sign in again.";
            return;
        }

        try
        {
            var listed = await Endpoints.GetAsync(_caller, null, null, CancellationToken.None);
            _endpoints = [.. listed["endpoints"]!.AsArray()
                .Select(e => new EndpointChoice((string)e!["inference_id"]!, (string)e["task_type"]!, (string)e["service"]!))
                .Where(e => e.TaskType is "completion" or "chat_completion")];
        }
        catch (InferenceApiException ex)
        {
            _error = ex.Reason;
        }

        var first = _endpoints.FirstOrDefault()?.InferenceId ?? string.Empty;
        _panes[0].InferenceId = first;
        _panes[1].InferenceId = _endpoints.Skip(1).FirstOrDefault()?.InferenceId ?? first;
        await LoadConversationsAsync();
    }

    private async Task LoadConversationsAsync()
    {
        if (_caller?.UserId is not null)
        {
            _conversations = [.. await Conversations.ListAsync(_caller, CancellationToken.None)];
        }
    }

    private async Task SendAsync()
    {
        var prompt = _prompt.Trim();
        if (Busy || prompt.Length == 0)
        {
            return;
        }

        _prompt = string.Empty;
        foreach (var pane in ActivePanes())
        {
            pane.Messages.Add(new PlaygroundMessage("user", prompt));
        }

        await StreamAllAsync();
    }

    private async Task RegenerateAsync()
    {
        foreach (var pane in ActivePanes())
        {
            // The last answer goes; the conversation up to the last prompt is sent again.
            while (pane.Messages.Count > 0 && pane.Messages[^1].Role == "assistant")
            {
                pane.Messages.RemoveAt(pane.Messages.Count - 1);
            }
        }

        await StreamAllAsync();
    }

    private void StartEdit(int pane, int message)
    {
        _editing = (pane, message);
        _editText = _panes[pane].Messages[message].Content;
    }

    private async Task ResendEditAsync()
    {
        if (_editing is not { } editing || string.IsNullOrWhiteSpace(_editText))
        {
            return;
        }

        // The edited message replaces the original and everything after it is dropped, then the answer is generated anew.
        var pane = _panes[editing.Pane];
        pane.Messages.RemoveRange(editing.Message, pane.Messages.Count - editing.Message);
        pane.Messages.Add(new PlaygroundMessage("user", _editText.Trim()));
        _editing = null;
        await StreamAsync([pane]);
    }

    private Task StreamAllAsync() => StreamAsync([.. ActivePanes().Where(p => p.Messages.Count > 0 && p.Messages[^1].Role == "user")]);

    private async Task StreamAsync(IReadOnlyList<ChatPane> panes)
    {
        if (_caller is null || panes.Count == 0)
        {
            return;
        }

        _error = null;
        _stop?.Dispose();
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        await Task.WhenAll(panes.Select(pane => StreamPaneAsync(_caller, pane, token)));
    }

    private async Task StreamPaneAsync(CallerIdentity caller, ChatPane pane, CancellationToken cancellationToken)
    {
        var request = RequestFor(pane);
        var answer = new PlaygroundMessage("assistant", string.Empty);
        pane.Messages.Add(answer);
        pane.Streaming = true;
        pane.Metrics = new StreamMetrics(Time) { Status = "waiting" };
        StateHasChanged();
        try
        {
            await foreach (var chunk in Streaming.StreamAsync(caller, request, Surface.Portal, cancellationToken))
            {
                if (chunk.Delta is { Length: > 0 } delta)
                {
                    answer.Content += delta;
                    pane.Metrics.OnDelta();
                }

                if (chunk.Usage is { } usage)
                {
                    pane.Metrics.OnUsage(usage, chunk.FinishReason == ChatStreamChunk.Cancelled);
                }
                else if (chunk.FinishReason is { } finish)
                {
                    pane.Metrics.Status = finish;
                }

                StateHasChanged();
            }
        }
        catch (InferenceApiException ex)
        {
            pane.Metrics.Status = $"{ex.Status.ToString(CultureInfo.InvariantCulture)} {ex.Type}";
            _error = $"{pane.InferenceId}: {ex.Reason}";
            if (answer.Content.Length == 0)
            {
                pane.Messages.Remove(answer);
            }
        }
        catch (OperationCanceledException)
        {
            pane.Metrics.Status = "stopped";
        }
        finally
        {
            pane.Streaming = false;
            StateHasChanged();
        }
    }

    private void Stop() => _stop?.Cancel();

    private ChatStreamRequest RequestFor(ChatPane pane) => CodeRequest(pane) with
    {
        Messages = [.. SystemMessages(), .. pane.Messages.Where(m => m.Content.Length > 0 || m.Role != "assistant").Select(m => new ChatStreamMessage(m.Role, m.Content))],
    };

    /// <summary>The request the pane sends (for "view code": with the prompt being typed when nothing was sent yet).</summary>
    private ChatStreamRequest CodeRequest(ChatPane pane) => new()
    {
        InferenceId = pane.InferenceId,
        Messages = [.. SystemMessages(), .. pane.Messages.Select(m => new ChatStreamMessage(m.Role, m.Content)),
            .. string.IsNullOrWhiteSpace(_prompt) ? Array.Empty<ChatStreamMessage>() : [new ChatStreamMessage("user", _prompt.Trim())]],
        Temperature = _temperature,
        TopP = _topP,
        MaxCompletionTokens = _maxTokens,
        Stop = [.. _stopSequences.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        Seed = _seed,
    };

    private IEnumerable<ChatStreamMessage> SystemMessages() =>
        string.IsNullOrWhiteSpace(_systemPrompt) ? [] : [new ChatStreamMessage("system", _systemPrompt.Trim())];

    private string TaskTypeOf(string inferenceId) =>
        _endpoints.FirstOrDefault(e => e.InferenceId == inferenceId)?.TaskType ?? "chat_completion";

    private IEnumerable<ChatPane> ActivePanes() => _panes.Take(_compare ? 2 : 1);

    private void ToggleCompare(ChangeEventArgs args)
    {
        _compare = args.Value is true;
        if (_compare)
        {
            // The second pane starts from the same conversation, so the next prompt is compared on equal terms.
            _panes[1].Messages.Clear();
            _panes[1].Messages.AddRange(_panes[0].Messages.Select(m => new PlaygroundMessage(m.Role, m.Content)));
            _panes[1].Metrics = new StreamMetrics(Time);
        }
    }

    private void NewConversation()
    {
        _conversationId = null;
        foreach (var pane in _panes)
        {
            pane.Messages.Clear();
            pane.Metrics = new StreamMetrics(Time);
        }
    }

    private void Open(SavedConversation saved)
    {
        if (Busy)
        {
            return;
        }

        _conversationId = saved.Id;
        _compare = false;
        _panes[0].InferenceId = saved.InferenceId;
        _panes[0].Messages.Clear();
        _panes[0].Messages.AddRange(saved.Content.Messages.Select(m => new PlaygroundMessage(m.Role, m.Content)));
        _panes[0].Metrics = new StreamMetrics(Time);
        _systemPrompt = saved.Content.SystemPrompt;
        var parameters = saved.Content.Parameters;
        (_temperature, _topP, _maxTokens, _seed) = (parameters.Temperature, parameters.TopP, parameters.MaxCompletionTokens, parameters.Seed);
        _stopSequences = string.Join('\n', parameters.Stop ?? []);
    }

    private async Task SaveAsync()
    {
        if (_caller is null)
        {
            return;
        }

        var pane = _panes[0];
        var title = pane.Messages.FirstOrDefault(m => m.Role == "user")?.Content ?? "Untitled";
        var content = new ConversationContent
        {
            SystemPrompt = _systemPrompt,
            Messages = [.. pane.Messages.Select(m => new ChatStreamMessage(m.Role, m.Content))],
            Parameters = CodeRequest(pane) with { InferenceId = string.Empty, Messages = [] },
        };
        try
        {
            _conversationId = await Conversations.SaveAsync(_caller, _conversationId, pane.InferenceId, title.Length > 60 ? title[..60] + "…" : title, content, CancellationToken.None);
            await LoadConversationsAsync();
        }
        catch (DomainValidationException ex)
        {
            _error = ex.Message;
        }
    }

    private async Task DeleteConversationAsync(SavedConversation saved)
    {
        if (_caller is null)
        {
            return;
        }

        await Conversations.DeleteAsync(_caller, saved.Id, CancellationToken.None);
        if (_conversationId == saved.Id)
        {
            _conversationId = null;
        }

        await LoadConversationsAsync();
    }

    public void Dispose()
    {
        // Leaving the page stops its streams (and so their generations).
        _stop?.Cancel();
        _stop?.Dispose();
    }

    private sealed record EndpointChoice(string InferenceId, string TaskType, string Service);
}

/// <summary>One side of the playground: its endpoint, conversation, stream and metrics.</summary>
internal sealed class ChatPane
{
    public string InferenceId { get; set; } = string.Empty;

    public List<PlaygroundMessage> Messages { get; } = [];

    public bool Streaming { get; set; }

    public StreamMetrics Metrics { get; set; } = new(TimeProvider.System);
}

/// <summary>A message as the playground shows it (an answer grows while it streams).</summary>
internal sealed class PlaygroundMessage(string role, string content)
{
    public string Role { get; } = role;

    public string Content { get; set; } = content;
}

/// <summary>Live figures of one stream: time to first token, tokens per second, and the billed usage once known.</summary>
internal sealed class StreamMetrics(TimeProvider time)
{
    private readonly long _startedAt = time.GetTimestamp();
    private TimeSpan? _firstToken;
    private TimeSpan? _ended;
    private int _deltas;
    private ChatStreamUsage? _usage;

    public string Status { get; set; } = "idle";

    public string TimeToFirstToken => _firstToken is { } first ? $"{first.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms" : "—";

    public string TokensPerSecond
    {
        get
        {
            if (_firstToken is not { } first || _deltas < 2)
            {
                return "—";
            }

            var seconds = ((_ended ?? time.GetElapsedTime(_startedAt)) - first).TotalSeconds;
            var tokens = (_usage?.OutputTokens ?? _deltas) - 1;
            return seconds <= 0 ? "—" : (tokens / seconds).ToString("0.0", CultureInfo.InvariantCulture);
        }
    }

    public string InputTokens => _usage?.InputTokens.ToString(CultureInfo.InvariantCulture) ?? "—";

    public string OutputTokens => (_usage?.OutputTokens ?? _deltas).ToString(CultureInfo.InvariantCulture);

    public string Cost => _usage?.Cost.ToString("0.#########", CultureInfo.InvariantCulture) ?? "—";

    public void OnDelta()
    {
        _firstToken ??= time.GetElapsedTime(_startedAt);
        _deltas++;
        Status = "streaming";
    }

    public void OnUsage(ChatStreamUsage usage, bool cancelled)
    {
        _usage = usage;
        _ended ??= time.GetElapsedTime(_startedAt);
        Status = cancelled ? "stopped" : "done";
    }
}
