using WebConsole.Inference.Generation;

namespace WebConsole.Unit.Inference.Generation;

/// <summary>generation_config.json's sampling defaults apply to requests that name no temperature, as in vLLM.</summary>
public sealed class DecoderModelConfigTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("wc-decoder-config-").FullName;

    [Fact]
    public void A_sampling_generation_config_gives_default_temperature_and_top_p()
    {
        File.WriteAllText(Path.Combine(_folder, "config.json"), """{"model_type":"qwen2","num_attention_heads":4,"hidden_size":64,"eos_token_id":7}""");
        File.WriteAllText(Path.Combine(_folder, "generation_config.json"), """{"do_sample":true,"temperature":0.7,"top_p":0.8,"eos_token_id":[5,6]}""");

        var config = DecoderModelConfig.FromFolder(_folder);

        Assert.Equal(0.7f, config.DefaultTemperature);
        Assert.Equal(0.8f, config.DefaultTopP);
        Assert.Equal([5, 6], config.EosTokenIds.Order());
        Assert.Equal(16, config.HeadDim);
    }

    [Fact]
    public void A_greedy_or_missing_generation_config_gives_no_sampling_defaults()
    {
        File.WriteAllText(Path.Combine(_folder, "config.json"), """{"model_type":"llama","eos_token_id":2}""");
        Assert.Null(DecoderModelConfig.FromFolder(_folder).DefaultTemperature);

        File.WriteAllText(Path.Combine(_folder, "generation_config.json"), """{"do_sample":false,"temperature":0.6}""");
        var config = DecoderModelConfig.FromFolder(_folder);
        Assert.Null(config.DefaultTemperature);
        Assert.Null(config.DefaultTopP);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
