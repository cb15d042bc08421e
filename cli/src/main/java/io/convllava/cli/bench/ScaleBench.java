package io.convllava.cli.bench;

import io.convllava.cli.LocalCluster;
import io.convllava.common.transport.Channels;
import io.convllava.common.transport.TransportOptions;
import io.convllava.coordinator.text.Tokenizer;
import io.convllava.coordinator.text.Tokenizers;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real-scale bench: a large model (the released 7B shapes) served by a local cluster of one vision node and llm
 * nodes holding the given layer ranges, each in its own JVM on this machine, asked two greedy questions through the
 * public API: one about an image, one with a long text prompt. Reports the time to load, each request's encode,
 * prefill, time to first token and decode speed, and each node's resident memory (now and peak).
 */
public final class ScaleBench {
    /** Words of one token each in LLaMA's vocabulary, for prompts of a chosen length. */
    private static final String[] WORDS = ("the of and to in is was for on with as by at from that this it be are"
            + " or an which one all were we when there can has more if will out so up said what its about into than"
            + " them only other new some time these two may first then do any like my now over such our man me even"
            + " most made after also did many before must through back years where much your way well down should"
            + " because each just those people how too little state good very make world still own see men work long"
            + " get here between both life being under never day same another know while last might us great old year"
            + " off come since against go came right used take three").split(" ");

    /** What to run; {@code hfCache} is the nodes' --hf-cache, or null. */
    public record Settings(Path model, String hfCache, String device, List<String> layers, byte[] image,
                           String imageLabel, String question, int promptTokens, int maxTokens,
                           String nodeJavaOptions, Path logDir, Duration readyTimeout, Duration requestTimeout) {
    }

    private final Settings settings;
    private final PrintStream progress;

    public ScaleBench(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    public ScaleReport run() throws IOException, InterruptedException {
        String longText = longText(Tokenizers.load(settings.model()), settings.promptTokens());
        LocalCluster.Spec spec = new LocalCluster.Spec(settings.model().toString(), settings.hfCache(), null,
                settings.device(), 1, settings.layers(), 0, settings.logDir(), settings.nodeJavaOptions(),
                List.of("--max-prompt-tokens", String.valueOf(Math.max(settings.promptTokens() + 64, 1))));
        say("starting ZooKeeper, 1 vision node, llm nodes with layers " + settings.layers() + " and a coordinator;"
                + " node logs in " + settings.logDir());
        try (LocalCluster cluster = new LocalCluster(spec, progress)) {
            long t0 = System.nanoTime();
            String endpoint = cluster.start(settings.readyTimeout());
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            Map<String, ResidentMemory> ready = ResidentMemory.of(cluster.pids());
            say(String.format("ready at %s after %.1f s", endpoint, loadSeconds));
            ManagedChannel channel = Channels.forAddress(endpoint, TransportOptions.DEFAULTS);
            try {
                say("the question about " + settings.imageLabel());
                StreamTiming image = TimedCall.generate(channel, request("scale-image", settings.question(),
                        settings.image()), settings.requestTimeout());
                say(String.format("answered: %d prompt positions, TTFT %.1f s, %d tokens", image.promptTokens(),
                        image.ttftMs() / 1e3, image.tokens()));
                say("the long prompt (about " + settings.promptTokens() + " tokens)");
                StreamTiming text = TimedCall.generate(channel, request("scale-long-prompt", longText, null),
                        settings.requestTimeout());
                say(String.format("answered: %d prompt positions, TTFT %.1f s, %d tokens", text.promptTokens(),
                        text.ttftMs() / 1e3, text.tokens()));
                Map<String, ResidentMemory> end = ResidentMemory.of(cluster.pids());
                List<NodeMemory> nodes = new ArrayList<>();
                cluster.pids().forEach((node, pid) -> nodes.add(new NodeMemory(node, pid, ready.get(node),
                        end.get(node))));
                return new ScaleReport(settings.model().toString(), settings.device(), settings.layers(),
                        settings.imageLabel(), loadSeconds, image, text, nodes);
            } finally {
                channel.shutdownNow();
            }
        }
    }

    private GenerateRequest request(String id, String text, byte[] image) {
        Message.Builder user = Message.newBuilder().setRole(Message.Role.USER).setText(text);
        if (image != null) {
            user.addImages(Image.newBuilder().setData(ByteString.copyFrom(image)));
        }
        return GenerateRequest.newBuilder().setRequestId(id).setMaxNewTokens(settings.maxTokens()).addMessages(user)
                .build();
    }

    /** Text of about {@code tokens} tokens (the chat template adds a few dozen). */
    static String longText(Tokenizer tokenizer, int tokens) {
        StringBuilder text = new StringBuilder("Read this and say which word comes most often:");
        int target = Math.max(1, tokens - 48);
        int i = 0;
        while (true) {
            int before = text.length();
            for (int j = 0; j < 64; j++, i++) {
                text.append(' ').append(WORDS[(i * 7919) % WORDS.length]);
            }
            if (tokenizer.encode(text.toString(), false).length > target) {
                text.setLength(before);
                break;
            }
        }
        while (tokenizer.encode(text.toString() + ' ' + WORDS[i % WORDS.length], false).length <= target) {
            text.append(' ').append(WORDS[i++ % WORDS.length]);
        }
        return text.toString();
    }

    private void say(String line) {
        progress.println("bench scale: " + line);
        progress.flush();
    }
}
