package io.convllava.tests;

import com.google.protobuf.ByteString;
import io.convllava.proto.v1.Final;
import io.convllava.proto.v1.GenerateRequest;
import io.convllava.proto.v1.GenerateResponse;
import io.convllava.proto.v1.Image;
import io.convllava.proto.v1.Message;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Public Generate requests and what their streams carry. */
final class Streams {
    private Streams() {
    }

    /** A greedy one-question request; {@code image} may be null. */
    static GenerateRequest request(String question, byte[] image, int maxNewTokens, boolean prefillLogits) {
        Message.Builder user = Message.newBuilder().setRole(Message.Role.USER).setText(question);
        if (image != null) {
            user.addImages(Image.newBuilder().setData(ByteString.copyFrom(image)));
        }
        return GenerateRequest.newBuilder().addMessages(user).setMaxNewTokens(maxNewTokens)
                .setReturnPrefillLogits(prefillLogits).build();
    }

    /** The streamed tokens and text, and the Final event, which must come last and once. */
    record Answer(int[] tokens, String streamedText, Final last) {
    }

    static Answer collect(Iterator<GenerateResponse> stream) {
        List<Integer> tokens = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        Final last = null;
        while (stream.hasNext()) {
            GenerateResponse event = stream.next();
            assertEquals(null, last, "nothing may follow the Final event");
            if (event.hasDelta()) {
                tokens.addAll(event.getDelta().getTokenIdsList());
                text.append(event.getDelta().getText());
            } else {
                last = event.getFinal();
            }
        }
        assertNotNull(last, "the stream ended without a Final event");
        return new Answer(tokens.stream().mapToInt(Integer::intValue).toArray(), text.toString(), last);
    }

    /**
     * The tokens of a stream; counts {@code underWay} down once {@code tokens} have arrived (or the stream ended
     * sooner), so that a test can act in the middle of several streams.
     */
    static int[] collectSignalling(Iterator<GenerateResponse> stream, int tokens, CountDownLatch underWay) {
        List<Integer> received = new ArrayList<>();
        boolean counted = false;
        while (stream.hasNext()) {
            received.addAll(stream.next().getDelta().getTokenIdsList());
            if (!counted && received.size() >= tokens) {
                underWay.countDown();
                counted = true;
            }
        }
        if (!counted) {
            underWay.countDown();
        }
        return received.stream().mapToInt(Integer::intValue).toArray();
    }
}
