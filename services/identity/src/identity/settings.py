from school_common.settings import GrpcSettings, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "identity"
    grpc: GrpcSettings = GrpcSettings(port=50061)
