package io.convllava.coordinator.httpapi;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.convllava.coordinator.http.HttpExchange;
import io.convllava.coordinator.http.HttpHandler;
import io.convllava.proto.v1.ClusterStatus;
import io.convllava.proto.v1.GetClusterStatusRequest;
import io.convllava.proto.v1.NodeStatus;
import io.convllava.proto.v1.Pipeline;
import io.grpc.StatusRuntimeException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code GET /v1/cluster}: GetClusterStatus as JSON, field for field ({@code nodes} with role, address, layers,
 * device, load and health; layer coverage; pipelines as lists of node ids; the plan epoch; the answering coordinator),
 * and the answering coordinator's request totals so far ({@code requests}, with the time they were read), from which
 * two polls give recent throughput and latency.
 */
final class ClusterStatusRoute implements HttpHandler {
    private final InProcessApi api;
    private final Supplier<RequestTotals> totals;

    ClusterStatusRoute(InProcessApi api, Supplier<RequestTotals> totals) {
        this.api = api;
        this.totals = totals;
    }

    @Override
    public void handle(HttpExchange exchange) {
        ClusterStatus status;
        try {
            status = api.blockingStub(exchange.header(HttpHeaderNames.AUTHORIZATION))
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw StatusErrors.toHttp(e);
        }
        JsonObject json = toJson(status);
        json.add("requests", toJson(totals.get(), System.currentTimeMillis()));
        exchange.respondJson(HttpResponseStatus.OK, json);
    }

    static JsonObject toJson(RequestTotals t, long readAtMillis) {
        JsonObject json = new JsonObject();
        json.addProperty("read_at_ms", readAtMillis);
        json.addProperty("finished", t.finished());
        json.addProperty("generated_tokens", t.generatedTokens());
        json.addProperty("first_token_seconds_sum", t.firstTokenSeconds());
        json.addProperty("first_token_count", t.firstTokens());
        json.addProperty("duration_seconds_sum", t.durationSeconds());
        json.addProperty("active", t.active());
        json.addProperty("queued", t.queued());
        return json;
    }

    static JsonObject toJson(ClusterStatus status) {
        JsonArray nodes = new JsonArray();
        for (NodeStatus n : status.getNodesList()) {
            JsonObject node = new JsonObject();
            node.addProperty("id", n.getId());
            node.addProperty("role", n.getRole().name().toLowerCase(Locale.ROOT));
            node.addProperty("address", n.getAddress());
            node.addProperty("model", n.getModel());
            if (n.hasLayers()) {
                JsonObject layers = new JsonObject();
                layers.addProperty("start", n.getLayers().getStart());
                layers.addProperty("end", n.getLayers().getEnd());
                node.add("layers", layers);
            } else {
                node.add("layers", JsonNull.INSTANCE);
            }
            node.addProperty("device", n.getDevice());
            node.addProperty("load", n.getLoad());
            node.addProperty("healthy", n.getHealthy());
            nodes.add(node);
        }
        JsonArray replicas = new JsonArray();
        status.getLayerReplicasList().forEach(replicas::add);
        JsonArray pipelines = new JsonArray();
        for (Pipeline p : status.getPipelinesList()) {
            JsonArray ids = new JsonArray();
            p.getNodeIdsList().forEach(ids::add);
            pipelines.add(ids);
        }
        JsonObject json = new JsonObject();
        json.addProperty("object", "cluster.status");
        json.addProperty("coordinator_id", status.getCoordinatorId());
        json.addProperty("num_layers", status.getNumLayers());
        json.addProperty("layers_covered", status.getLayersCovered());
        json.add("layer_replicas", replicas);
        json.add("pipelines", pipelines);
        json.addProperty("plan_epoch", status.getPlanEpoch());
        json.add("nodes", nodes);
        return json;
    }
}
