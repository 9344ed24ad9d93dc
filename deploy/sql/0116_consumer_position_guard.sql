-- A consumer's position guard that fails its transaction by itself.
--
-- A consumer writes its new position only if the row still holds the one
-- it read (common/consumer.c): a second instance of the same consumer that
-- moved it meanwhile makes the write match no row. The consumer used to
-- read that answer and then decide not to commit, one round trip before
-- the COMMIT. The position now goes to the server in the same round trip
-- as the COMMIT (common/db.c, pipeline), so the refusal must abort the
-- transaction on the server: this function raises it, and the COMMIT then
-- rolls back. The error names the consumer, the stream and the position
-- expected, for the log of the instance that lost.
CREATE FUNCTION creance_position_moved(p_consumer text, p_tenant text, p_stream text,
                                       p_expected bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consumer_positions: consumer % tenant % stream % is no longer at %: '
                    'another instance of the consumer moved it', p_consumer, p_tenant, p_stream,
                    p_expected
        USING ERRCODE = 'serialization_failure';
END $$;
