from school_common.settings import GrpcSettings, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "messaging"
    grpc: GrpcSettings = GrpcSettings(port=50065)
