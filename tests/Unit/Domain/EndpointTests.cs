using WebConsole.Domain;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;

namespace WebConsole.Unit.Domain;

public sealed class EndpointTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("my-endpoint")]
    [InlineData("e5_small.v2")]
    [InlineData("a")]
    [InlineData("0abc9")]
    [InlineData(".elser-2-elasticsearch")]
    public void Valid_inference_ids_parse(string id)
    {
        Assert.Equal(id, InferenceId.Parse(id).Value);
        Assert.Equal(id.StartsWith('.'), InferenceId.Parse(id).IsReserved);
    }

    [Theory]
    [InlineData("My-Endpoint")]
    [InlineData("has space")]
    [InlineData("-leading")]
    [InlineData("trailing_")]
    [InlineData("_all")]
    [InlineData("*")]
    [InlineData("")]
    [InlineData("..double")]
    public void Invalid_inference_ids_are_rejected_with_elasticsearch_wording(string id)
    {
        var error = Assert.Throws<DomainValidationException>(() => InferenceId.Parse(id));
        Assert.Equal($"Invalid inference_id; '{id}' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric", error.Message);
    }

    [Fact]
    public void Overlong_inference_ids_are_rejected()
    {
        Assert.False(InferenceId.TryParse(new string('a', InferenceId.MaxLength + 1), out _));
        Assert.True(InferenceId.TryParse(new string('a', InferenceId.MaxLength), out _));
    }

    [Theory]
    [InlineData("text_embedding", TaskType.TextEmbedding)]
    [InlineData("sparse_embedding", TaskType.SparseEmbedding)]
    [InlineData("rerank", TaskType.Rerank)]
    [InlineData("completion", TaskType.Completion)]
    [InlineData(" CHAT_COMPLETION ", TaskType.ChatCompletion)]
    public void Task_types_parse_from_wire_names(string wire, TaskType expected)
    {
        Assert.Equal(expected, TaskTypes.Parse(wire));
        Assert.Equal(wire.Trim().ToLowerInvariant(), expected.ToWireName());
    }

    [Fact]
    public void An_unknown_task_type_gives_the_contract_message()
    {
        Assert.Equal("Unknown task_type [bad]", Assert.Throws<DomainValidationException>(() => TaskTypes.Parse("bad")).Message);
    }

    private static InferenceEndpoint Create(string id, TaskType taskType, ChunkingSettings? chunking = null) =>
        InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse(id), taskType, "openai", """{"model_id":"x"}""", "blob", null, chunking, Now);

    [Fact]
    public void Embedding_endpoints_get_default_chunking_and_chat_endpoints_none()
    {
        Assert.Equal(ChunkingSettings.Default, Create("e", TaskType.TextEmbedding).ChunkingSettings);
        Assert.Null(Create("c", TaskType.ChatCompletion).ChunkingSettings);
        Assert.Equal(ChunkingSettings.None, Create("n", TaskType.SparseEmbedding, ChunkingSettings.None).ChunkingSettings);
        Assert.Equal("{}", Create("t", TaskType.Rerank).TaskSettings);
    }

    [Fact]
    public void A_reserved_id_cannot_be_created_by_users()
    {
        var error = Assert.Throws<DomainValidationException>(() => Create(".elser-2-elasticsearch", TaskType.SparseEmbedding));
        Assert.Equal("[.elser-2-elasticsearch] is a reserved inference ID. Cannot create a new inference endpoint with a reserved ID.", error.Message);
    }

    [Fact]
    public void A_reserved_endpoint_cannot_be_deleted()
    {
        var reserved = InferenceEndpoint.CreateReserved(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse(".rerank-v1-elasticsearch"), TaskType.Rerank, "elasticsearch", "{}", null, null, Now);
        Assert.True(reserved.IsReserved);
        var error = Assert.Throws<DomainValidationException>(reserved.EnsureDeletable);
        Assert.Equal("[.rerank-v1-elasticsearch] is a reserved inference endpoint. Cannot delete a reserved inference endpoint.", error.Message);
        Create("mine", TaskType.Rerank).EnsureDeletable();
    }

    [Fact]
    public void Missing_service_and_non_object_settings_are_rejected()
    {
        var error = Assert.Throws<DomainValidationException>(() =>
            InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("x"), TaskType.Rerank, " ", "{}", null, null, null, Now));
        Assert.Equal("Inference endpoint configuration is missing the [service] setting", error.Message);
        Assert.Throws<DomainValidationException>(() =>
            InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("x"), TaskType.Rerank, "s", "[1]", null, null, null, Now));
    }

    [Fact]
    public void Updates_change_settings_and_the_update_time()
    {
        var endpoint = Create("e", TaskType.TextEmbedding);
        var later = Now.AddMinutes(5);
        endpoint.UpdateTaskSettings("""{"input_type":"ingest"}""", later);
        endpoint.UpdateChunkingSettings(ChunkingSettings.Word(100, 10), later);
        Assert.Equal("""{"input_type":"ingest"}""", endpoint.TaskSettings);
        Assert.Equal(ChunkingSettings.Word(100, 10), endpoint.ChunkingSettings);
        Assert.Equal(later, endpoint.UpdatedAt);
        Assert.Equal(Now, endpoint.CreatedAt);
    }

    [Fact]
    public void A_request_for_another_task_type_is_refused()
    {
        var error = Assert.Throws<DomainValidationException>(() => Create("e", TaskType.TextEmbedding).EnsureTaskType(TaskType.Rerank));
        Assert.Equal("Requested task type [rerank] does not match the inference endpoint's task type [text_embedding]", error.Message);
    }
}
