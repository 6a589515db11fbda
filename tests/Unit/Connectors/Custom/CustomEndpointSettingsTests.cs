using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Custom;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Unit.Connectors.Custom;

public sealed class CustomEndpointSettingsTests
{
    [Fact]
    public void Valid_text_embedding_settings_parse_into_typed_settings_and_are_stored_canonically()
    {
        var settings = CustomEndpointSettings.Parse(TaskType.TextEmbedding, Embedding(), Parameters(new JsonObject { ["model"] = "m-1" }));

        Assert.Equal("https://provider.example/embed", settings.Url.Source);
        Assert.Equal("Bearer ${api_key}", Assert.Single(settings.Headers).Value.Source);
        Assert.Equal("sk-123", settings.SecretParameters["api_key"]);
        Assert.Equal("$.data[*].embedding", ((TextEmbeddingResponseParser)settings.Response).Embeddings.Text);
        Assert.Equal("search_query", settings.InputTypeTranslation.Translate(InputType.Search));
        Assert.Equal("default_type", settings.InputTypeTranslation.Translate(InputType.Clustering));
        Assert.Equal(CustomEndpointSettings.DefaultBatchSize, settings.BatchSize);
        Assert.Equal("m-1", settings.Parameters["model"]!.GetValue<string>());

        var stored = settings.ToServiceSettings();
        Assert.Equal("float", stored["response"]!["json_parser"]!["embedding_type"]!.GetValue<string>());
        Assert.Equal(CustomEndpointSettings.DefaultRequestsPerMinute, stored["rate_limit"]!["requests_per_minute"]!.GetValue<int>());
        Assert.Equal("sk-123", stored["secret_parameters"]!["api_key"]!.GetValue<string>());
        Assert.Equal("""{"ingest":"search_document","search":"search_query"}""", stored["input_type"]!["translation"]!.ToJsonString());
        Assert.Equal("""{"parameters":{"model":"m-1"}}""", settings.TaskSettings.ToJsonString());

        // What is stored parses back to the same request.
        var again = CustomEndpointSettings.Parse(TaskType.TextEmbedding, stored, settings.TaskSettings);
        Assert.Equal(stored.ToJsonString(), again.ToServiceSettings().ToJsonString());
    }

    [Fact]
    public void A_placeholder_found_nowhere_is_a_400_naming_it()
    {
        var settings = Embedding();
        settings["request"] = """{"texts": ${input}, "model": ${model}}""";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, null),
            "Failed to validate model configuration: Found placeholder [${model}] in field [request] after replacement call");

        // A task parameter of that name fills it.
        CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, Parameters(new JsonObject { ["model"] = "m" }));
    }

    [Fact]
    public void Headers_url_and_query_parameters_take_only_string_parameters()
    {
        var settings = Embedding();
        settings["headers"] = new JsonObject { ["X-Version"] = "${version}" };
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, Parameters(new JsonObject { ["version"] = 2 })),
            "Failed to validate model configuration: Found placeholder [${version}] in field [header.X-Version] after replacement call");

        settings["headers"] = new JsonObject();
        settings["query_parameters"] = new JsonArray(new JsonArray("key", "${input}"));
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, null),
            "Failed to validate model configuration: Found placeholder [${input}] in field [query parameters: [key]] after replacement call");

        settings.Remove("query_parameters");
        settings["url"] = "https://provider.example/${region}/embed";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, null),
            "Failed to validate model configuration: Found placeholder [${region}] in field [url] after replacement call");
        CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, Parameters(new JsonObject { ["region"] = "eu" }));
    }

    [Theory]
    [InlineData("text_embedding", "${query}", false)]
    [InlineData("text_embedding", "${input_type}", true)]
    [InlineData("sparse_embedding", "${input_type}", true)]
    [InlineData("rerank", "${query}", true)]
    [InlineData("rerank", "${top_n}", true)]
    [InlineData("rerank", "${return_documents}", true)]
    [InlineData("rerank", "${input_type}", false)]
    [InlineData("completion", "${input}", true)]
    [InlineData("completion", "${query}", false)]
    public void Request_values_are_known_per_task_type(string taskType, string placeholder, bool known)
    {
        Assert.True(TaskTypes.TryParse(taskType, out var type));
        var settings = For(type);
        settings["request"] = $$"""{"input": ${input}, "x": {{placeholder}}}""";
        if (known)
        {
            CustomEndpointSettings.Parse(type, settings, null);
        }
        else
        {
            Assert400(() => CustomEndpointSettings.Parse(type, settings, null),
                $"Failed to validate model configuration: Found placeholder [{placeholder}] in field [request] after replacement call");
        }
    }

    [Fact]
    public void Unknown_settings_are_rejected_by_name_at_every_level()
    {
        var top = Embedding();
        top["model"] = "x";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, top, null),
            "Configuration contains settings [{model=x}] unknown to the [custom] service");

        var parser = Embedding();
        parser["response"]!["json_parser"]!["extra"] = "$.x";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, parser, null),
            "Configuration contains settings [{extra=$.x}] unknown to the [custom] service");

        var response = Embedding();
        response["response"]!["error_parser"] = new JsonObject();
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, response, null),
            "Configuration contains settings [{error_parser={}}] unknown to the [custom] service");

        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, Embedding(), new JsonObject { ["temperature"] = 1 }),
            "Configuration contains settings [{temperature=1}] unknown to the [custom] service");

        // Dimensions belong to text_embedding only.
        var sparse = For(TaskType.SparseEmbedding);
        sparse["dimensions"] = 3;
        Assert400(() => CustomEndpointSettings.Parse(TaskType.SparseEmbedding, sparse, null),
            "Configuration contains settings [{dimensions=3}] unknown to the [custom] service");
    }

    [Fact]
    public void Missing_required_settings_are_named_with_their_scope()
    {
        var noUrl = Embedding();
        noUrl.Remove("url");
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, noUrl, null), "[service_settings] does not contain the required setting [url]");

        var noRequest = Embedding();
        noRequest.Remove("request");
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, noRequest, null), "[service_settings] does not contain the required setting [request]");

        var noResponse = Embedding();
        noResponse.Remove("response");
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, noResponse, null), "[service_settings] does not contain the required setting [response]");

        var noParser = Embedding();
        noParser["response"] = new JsonObject();
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, noParser, null),
            "[service_settings.response] does not contain the required setting [json_parser]");

        Assert400(() => CustomEndpointSettings.Parse(TaskType.Rerank, Embedding(), null),
            "[service_settings.response.json_parser] does not contain the required setting [relevance_score]");
    }

    [Fact]
    public void Invalid_values_are_400s()
    {
        var path = Embedding();
        path["response"]!["json_parser"]!["text_embeddings"] = "data[*].embedding";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, path, null),
            "[service_settings.response.json_parser] Invalid value for [text_embeddings]: Path [data[*].embedding] must start with a dollar sign ($)");

        var type = Embedding();
        type["response"]!["json_parser"]!["embedding_type"] = "int4";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, type, null),
            "[service_settings.response.json_parser] Invalid value [int4] received. [embedding_type] must be one of [binary, bit, byte, float]");

        var translation = Embedding();
        translation["input_type"]!["translation"]!["query"] = "q";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, translation, null),
            "Invalid input type translation for key: [query], is not a valid value. Must be one of [CLASSIFICATION, CLUSTERING, INGEST, SEARCH]");

        var query = Embedding();
        query["query_parameters"] = new JsonArray(new JsonArray("only-a-key"));
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, query, null),
            """[service_settings] failed parsing field [query_parameters], entry [0] must be a list of two strings [key, value], received [["only-a-key"]]""");

        var url = Embedding();
        url["url"] = "ftp://provider.example/embed";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, url, null),
            "[service_settings] Invalid url [ftp://provider.example/embed] received for field [url]. Error: the url must be an absolute http or https URL");

        var similarity = Embedding();
        similarity["similarity"] = "hamming";
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, similarity, null),
            "[service_settings] Invalid value [hamming] received. [similarity] must be one of [cosine, dot_product, l2_norm]");

        var batch = Embedding();
        batch["batch_size"] = 0;
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, batch, null),
            "[service_settings] Invalid value [0]. [batch_size] must be a positive integer");

        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, Embedding(), Parameters(new JsonObject { ["nested"] = new JsonObject() })),
            "Map field [parameters] has an entry that is not valid. Value type is not one of [String, Integer, Double, Float, Boolean]. Key [nested], value [{}]");
    }

    [Fact]
    public void Task_parameters_may_not_shadow_secret_parameters()
    {
        Assert400(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, Embedding(), Parameters(new JsonObject { ["api_key"] = "other" })),
            "[task_settings.parameters] cannot contain the same keys as [secret_parameters]: [api_key]");
    }

    [Fact]
    public void A_bad_secret_value_is_refused_without_being_echoed()
    {
        var settings = Embedding();
        settings["secret_parameters"] = new JsonObject { ["api_key"] = 918273645 };
        var error = Assert.Throws<InferenceApiException>(() => CustomEndpointSettings.Parse(TaskType.TextEmbedding, settings, null));
        Assert.Equal(400, error.Status);
        Assert.Contains("[api_key]", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("918273645", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_task_type_reads_its_own_parser()
    {
        Assert.IsType<SparseEmbeddingResponseParser>(CustomEndpointSettings.Parse(TaskType.SparseEmbedding, For(TaskType.SparseEmbedding), null).Response);
        var rerank = (RerankResponseParser)CustomEndpointSettings.Parse(TaskType.Rerank, For(TaskType.Rerank), null).Response;
        Assert.Equal("$.results[*].index", rerank.Indices!.Text);
        Assert.IsType<CompletionResponseParser>(CustomEndpointSettings.Parse(TaskType.Completion, For(TaskType.Completion), null).Response);
    }

    [Fact]
    public void The_service_refuses_chat_completion_and_streaming()
    {
        var service = new CustomInferenceService(null!);
        Assert.DoesNotContain(TaskType.ChatCompletion, service.SupportedTaskTypes);
        Assert.All(TaskTypes.All, t => Assert.False(service.SupportsStreaming(t)));
        Assert400(() => service.Parse(TaskType.ChatCompletion, Embedding(), null),
            "The [custom] service does not support task type [chat_completion]");
        Assert.Equal("secret_parameters", Assert.Single(service.SecretFields));
        var schema = service.Configuration.ToJson();
        Assert.True(schema["configurations"]!["secret_parameters"]!["sensitive"]!.GetValue<bool>());
        Assert.True(schema["configurations"]!["url"]!["required"]!.GetValue<bool>());
        Assert.Null(service.Configuration.ToJson(TaskType.Rerank)["configurations"]!["dimensions"]);
    }

    internal static JsonObject Embedding() => new()
    {
        ["url"] = "https://provider.example/embed",
        ["headers"] = new JsonObject { ["Authorization"] = "Bearer ${api_key}" },
        ["request"] = """{"texts": ${input}, "input_type": ${input_type}}""",
        ["response"] = new JsonObject { ["json_parser"] = new JsonObject { ["text_embeddings"] = "$.data[*].embedding" } },
        ["input_type"] = new JsonObject
        {
            ["translation"] = new JsonObject { ["search"] = "search_query", ["INGEST"] = "search_document" },
            ["default"] = "default_type",
        },
        ["secret_parameters"] = new JsonObject { ["api_key"] = "sk-123" },
    };

    internal static JsonObject For(TaskType taskType)
    {
        var settings = Embedding();
        settings.Remove("input_type");
        settings["request"] = """{"input": ${input}}""";
        settings["response"] = new JsonObject
        {
            ["json_parser"] = taskType switch
            {
                TaskType.SparseEmbedding => new JsonObject
                {
                    ["token_path"] = "$.result.sparse_embeddings[*].embedding[*].token_id",
                    ["weight_path"] = "$.result.sparse_embeddings[*].embedding[*].weight",
                },
                TaskType.Rerank => new JsonObject
                {
                    ["relevance_score"] = "$.results[*].relevance_score",
                    ["reranked_index"] = "$.results[*].index",
                },
                TaskType.Completion => new JsonObject { ["completion_result"] = "$.choices[*].message.content" },
                _ => new JsonObject { ["text_embeddings"] = "$.data[*].embedding" },
            },
        };
        return settings;
    }

    internal static JsonObject Parameters(JsonObject parameters) => new() { ["parameters"] = parameters };

    private static void Assert400(Action action, string reason)
    {
        var error = Assert.Throws<InferenceApiException>(action);
        Assert.Equal(400, error.Status);
        Assert.Equal(reason, error.Reason);
    }
}
