package io.convllava.common.model;

import io.convllava.common.checkpoint.CheckpointException;
import io.convllava.common.checkpoint.Checkpoints;
import io.convllava.common.checkpoint.PrefixedTensorSource;
import io.convllava.common.checkpoint.TensorSource;
import io.convllava.common.config.ConfigLoader;
import io.convllava.common.config.LlmConfig;
import io.convllava.common.config.PreprocessorConfig;
import io.convllava.common.config.VisionConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a ConvLLaVA model lives on disk and what its configs say: the LLM folder (decoder, projector, tokenizer)
 * and the ConvNeXt tower folder ({@code mm_vision_tower}: its config, preprocessor config and usually its own
 * weights).
 */
public record ModelFiles(Path llmDir, LlmConfig llmConfig, Path visionDir, VisionConfig visionConfig,
                         PreprocessorConfig preprocessorConfig) {

    /** Key of the tower's stem convolution, found under whatever prefix a checkpoint stores the tower. */
    static final String TOWER_STEM_KEY = "embeddings.patch_embeddings.weight";
    /** The tower's final LayerNorm, which feature extraction never uses. */
    static final String UNUSED_TOWER_NORM = "layernorm.";

    /**
     * @param modelDirOrHubId a folder, or a hub id ({@code ORG/NAME}) looked up in the hub cache
     * @param hfCacheOrNull   the hub cache; null for {@code HF_HUB_CACHE}, {@code HF_HOME/hub} or {@code ~/.cache/huggingface/hub}
     * @param visionTowerOverrideOrNull a tower folder to use instead of the config's {@code mm_vision_tower}
     */
    public static ModelFiles resolve(String modelDirOrHubId, Path hfCacheOrNull, Path visionTowerOverrideOrNull) {
        Path cache = HubCache.locate(hfCacheOrNull);
        Path llmDir = locateModel(modelDirOrHubId, cache);
        LlmConfig llmConfig = ConfigLoader.loadLlm(requireFile(llmDir.resolve("config.json"), "LLM config"));
        Path visionDir = visionTowerOverrideOrNull != null
                ? requireDir(visionTowerOverrideOrNull, "vision tower override")
                : locateTower(llmDir, llmConfig, cache);
        VisionConfig visionConfig = ConfigLoader.loadVision(requireFile(visionDir.resolve("config.json"),
                "vision tower config"));
        PreprocessorConfig preprocessor = ConfigLoader.loadPreprocessor(
                requireFile(visionDir.resolve("preprocessor_config.json"), "vision tower preprocessor config"));
        return new ModelFiles(llmDir, llmConfig, visionDir, visionConfig, preprocessor);
    }

    /**
     * The model's folder: {@code modelDirOrHubId} itself when it is a directory, else the cached snapshot of that hub
     * id in {@code hfCacheOrNull} (null: {@code HF_HUB_CACHE}, {@code HF_HOME/hub} or {@code ~/.cache/huggingface/hub}).
     */
    public static Path locate(String modelDirOrHubId, Path hfCacheOrNull) {
        return locateModel(modelDirOrHubId, HubCache.locate(hfCacheOrNull));
    }

    private static Path locateModel(String modelDirOrHubId, Path cache) {
        Path asPath = Path.of(modelDirOrHubId);
        if (Files.isDirectory(asPath)) {
            return asPath.toAbsolutePath().normalize();
        }
        if (HubCache.isRepoId(modelDirOrHubId)) {
            Path snapshot = HubCache.snapshot(cache, modelDirOrHubId);
            if (snapshot != null) {
                return snapshot;
            }
        }
        throw new CheckpointException("model '" + modelDirOrHubId + "' not found: no directory "
                + asPath.toAbsolutePath() + (HubCache.isRepoId(modelDirOrHubId)
                ? " and no " + HubCache.repoDir(cache, modelDirOrHubId) + " in the hub cache " + cache
                : " (and it is not a hub id ORG/NAME)"));
    }

    /** {@code mm_vision_tower}: a path relative to the LLM folder, an absolute path, or a hub id. */
    private static Path locateTower(Path llmDir, LlmConfig cfg, Path cache) {
        String tower = cfg.mmVisionTower();
        if (tower == null || tower.isBlank()) {
            throw new CheckpointException("config " + llmDir.resolve("config.json")
                    + ": field 'mm_vision_tower' is missing; pass a vision tower folder explicitly");
        }
        Path asPath = Path.of(tower);
        Path candidate = asPath.isAbsolute() ? asPath : llmDir.resolve(asPath);
        if (Files.isDirectory(candidate)) {
            return candidate.normalize();
        }
        if (HubCache.isRepoId(tower)) {
            Path snapshot = HubCache.snapshot(cache, tower);
            if (snapshot != null) {
                return snapshot;
            }
        }
        throw new CheckpointException("vision tower '" + tower + "' (mm_vision_tower in " + llmDir.resolve("config.json")
                + ") not found: no directory " + candidate.normalize() + (HubCache.isRepoId(tower)
                ? " and no " + HubCache.repoDir(cache, tower) + " in the hub cache " + cache : ""));
    }

    private static Path requireFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(what + " not found: no file " + file);
        }
        return file;
    }

    private static Path requireDir(Path dir, String what) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(what + " not found: no directory " + dir);
        }
        return dir.toAbsolutePath().normalize();
    }

    /** The LLM checkpoint with its keys as stored ({@code model.layers.N…}, {@code lm_head.weight}, {@code model.mm_projector…}). */
    public TensorSource openLlmWeights() {
        return Checkpoints.open(llmDir);
    }

    /** Whether the tower folder has a weights file of its own (which the reference implementation loads). */
    public boolean visionHasOwnWeights() {
        return !visionDir.equals(llmDir) && Checkpoints.findWeights(visionDir) != null;
    }

    /**
     * The tower's tensors with unprefixed HF {@code ConvNextModel} keys ({@code embeddings.patch_embeddings.weight},
     * {@code encoder.stages.S.layers.J.dwconv.weight}, …), without the unused final {@code layernorm.*}: from the
     * tower folder's own weights when present, else {@code model.vision_tower.vision_tower.*} of the LLM checkpoint.
     */
    public TensorSource openVisionWeights() {
        TensorSource source = visionHasOwnWeights() ? Checkpoints.open(visionDir) : openLlmWeights();
        try {
            String prefix = towerPrefix(source);
            return new PrefixedTensorSource(source, prefix, name -> !name.startsWith(UNUSED_TOWER_NORM));
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /** The shortest prefix under which the checkpoint stores the tower ("", "vision_tower.", "model.vision_tower.vision_tower.", …). */
    private static String towerPrefix(TensorSource source) {
        String best = null;
        for (String name : source.names()) {
            if (name.endsWith(TOWER_STEM_KEY)) {
                String prefix = name.substring(0, name.length() - TOWER_STEM_KEY.length());
                if ((prefix.isEmpty() || prefix.endsWith(".")) && (best == null || prefix.length() < best.length())) {
                    best = prefix;
                }
            }
        }
        if (best == null) {
            throw new CheckpointException("no vision tower weights in " + source + ": no key ending in '"
                    + TOWER_STEM_KEY + "'");
        }
        return best;
    }
}
