package io.convllava.cli.eval;

import io.convllava.cli.RemoteGenerate;
import io.convllava.common.client.CoordinatorFailover;
import io.convllava.coordinator.generate.GenerationRequest;
import io.convllava.coordinator.text.ConversationTemplate;
import io.convllava.proto.v1.GenerateRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Answers through a running cluster's public {@code Generate} API: greedy, one image, the conversation template
 * named; a request goes to the next coordinator when its own dies ({@link CoordinatorFailover}). A request the
 * coordinator refuses for what it holds (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE) is that question's
 * failure; other errors (the cluster unreachable, a deadline) stop the run.
 */
public final class RemoteAnswerer implements Answerer {
    private static final Set<Status.Code> QUESTION_FAULTS = Set.of(Status.Code.INVALID_ARGUMENT,
            Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE);

    private final CoordinatorFailover coordinators;
    private final String target;
    private final ConversationTemplate template;
    private final String templateName;
    private final int maxNewTokens;

    /**
     * @param coordinators the channels to the coordinators of one cluster, tried in order
     * @param target       their addresses, as the user gave them
     * @param timeout      each question's deadline
     * @param onRetry      told when a question moves to the next coordinator
     */
    public RemoteAnswerer(List<Channel> coordinators, String target, String templateName, int maxNewTokens,
                          Duration timeout, Consumer<String> onRetry) {
        this.coordinators = new CoordinatorFailover(coordinators, timeout, onRetry);
        this.target = target;
        this.template = ConversationTemplate.byName(templateName);
        this.templateName = templateName;
        this.maxNewTokens = maxNewTokens;
    }

    @Override
    public String answer(EvalQuestion question, byte[] image) {
        GenerationRequest request = question.request(image, template, maxNewTokens);
        GenerateRequest call = RemoteGenerate.toProto(request, templateName).toBuilder()
                .setRequestId("eval-" + question.id()).build();
        try {
            return coordinators.generate(call, delta -> { }).getText();
        } catch (StatusRuntimeException e) {
            if (QUESTION_FAULTS.contains(e.getStatus().getCode())) {
                throw new QuestionRefusedException(e.getStatus().getCode() + ": " + e.getStatus().getDescription(), e);
            }
            throw e;
        }
    }

    @Override
    public String describe() {
        return target;
    }

    @Override
    public void close() {
        // the channels belong to the caller
    }
}
