"""AI and model-hosting API keys: OpenAI, Anthropic, Hugging Face, Groq, Perplexity, xAI,
Replicate, OpenRouter, LangSmith, Pinecone, Cerebras, NVIDIA, ElevenLabs, Cohere, Mistral,
Together, Weights & Biases, AssemblyAI and Deepgram.  Every type here is in the ``AIKey``
toggle.  (The older base rule reports any other ``sk-`` token as ``Secret``.)
"""

from __future__ import annotations

from ._common import Rule
from ._tokens import HEX32, HEX40, kw, tok

RULES: tuple[Rule, ...] = (
    tok("OpenAIKey", b"sk-(?:proj|svcacct|admin)-", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}", som=True),
    tok("OpenAIKey", b"sk-[A-Za-z0-9]{20}T3BlbkFJ", r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}", back=31),
    tok("OpenAIKey", b"sk-[A-Za-z0-9]{48}", r"sk-[A-Za-z0-9]{48}", back=51, min_entropy=4.0),
    # API and admin keys are 93 characters and "AA"; OAuth access/refresh tokens vary
    tok("AnthropicKey", b"sk-ant-(?:api|admin)[0-9]{2}-", r"sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_\-]{93}AA", som=True),
    tok("AnthropicKey", b"sk-ant-(?:oat|ort)[0-9]{2}-", r"sk-ant-(?:oat|ort)[0-9]{2}-[A-Za-z0-9_\-]{80,}", som=True),
    tok("OpenRouterKey", "sk-or-v1-", r"sk-or-v1-[a-f0-9]{64}"),
    tok("HuggingFaceToken", "hf_", r"hf_[A-Za-z0-9]{34}", min_entropy=3.5),
    tok("HuggingFaceToken", "api_org_", r"api_org_[A-Za-z0-9]{34}", min_entropy=3.5),
    tok("GroqKey", "gsk_", r"gsk_[A-Za-z0-9]{52}"),
    tok("PerplexityKey", "pplx-", r"pplx-[A-Za-z0-9]{48}"),
    tok("XAIKey", "xai-", r"xai-[A-Za-z0-9]{80}"),
    tok("ReplicateToken", "r8_", r"r8_[A-Za-z0-9]{37}"),
    tok("LangSmithKey", b"lsv2_(?:pt|sk)_", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}", back=8),
    tok("PineconeKey", "pcsk_", r"pcsk_[A-Za-z0-9_]{50,}"),
    tok("CerebrasKey", "csk-", r"csk-[a-z0-9]{48}"),
    tok("NvidiaAPIKey", "nvapi-", r"nvapi-[A-Za-z0-9_\-]{64}"),
    tok("ElevenLabsKey", b"sk_[a-f0-9]{48}", r"sk_[a-f0-9]{48}", back=51, min_entropy=3.0),
    kw(("xi-api-key", "elevenlabs_api_key", "elevenlabs"), (("ElevenLabsKey", r"(?:sk_)?[a-f0-9]{32,48}", 3.0),)),
    kw(("deepseek_api_key", "deepseek"), (("DeepSeekKey", r"sk-[a-f0-9]{32}", 3.0),)),
    kw(("moonshot_api_key", "kimi_api_key", "zhipuai_api_key", "zai_api_key"),
       (("ChatModelKey", r"sk-[A-Za-z0-9]{32,64}", 3.5), ("ChatModelKey", r"[a-f0-9]{32}\.[A-Za-z0-9]{16}", 3.5))),
    kw(("fireworks_api_key", "anyscale_api_key", "voyage_api_key", "ollama_api_key", "stability_api_key", "runpod_api_key"),
       (("AIProviderKey", r"[A-Za-z0-9_\-.]{24,80}", 4.0),)),
    kw(("cohere_api_key", "co_api_key", "cohere"), (("CohereKey", r"[A-Za-z0-9]{40}", 4.0),)),
    kw(("mistral_api_key", "mistral"), (("MistralKey", r"[A-Za-z0-9]{32}", 4.0),)),
    kw(("together_api_key", "togetherai"), (("TogetherKey", r"[a-f0-9]{64}", 3.0), ("TogetherKey", r"tgp_v1_[A-Za-z0-9_\-]{43}", 3.0))),
    kw(("wandb_api_key", "wandb"), (("WandbKey", HEX40, 3.0), ("WandbKey", r"local-[a-f0-9]{40}", 3.0))),
    kw(("assemblyai_api_key", "assemblyai"), (("AssemblyAIKey", HEX32, 3.0),)),
    kw(("deepgram_api_key", "deepgram"), (("DeepgramKey", HEX40, 3.0),)),
    kw(("pinecone_api_key", "pinecone"), (("PineconeKey", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", 3.0),)),
)
